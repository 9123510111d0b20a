/// <reference lib="webworker" />
/**
 * Parley's service worker: precaches the app shell so that the app starts
 * with no network, answers navigations with index.html (the app routes by
 * URL), leaves /api (but media: lib/media/sw.ts) and /sync to the network, and waits for the page’s
 * SKIP_WAITING (the user accepted the update prompt) before taking over.
 *
 * Push (protocol's PushPayload): always shows a notification (iOS revokes a
 * subscription whose pushes show none), one per conversation; keeps the
 * message in the app's store (lib/sync/pushed.ts) so the app opened offline
 * shows it; sets the app badge. A click opens the conversation
 * (lib/push/openConversation.ts).
 */
import './csp.ts';
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { PushPayload } from '@parley/protocol';
import { FALLBACK, notificationData, planNotification } from './lib/push/notify.ts';
import { openConversationFromNotification } from './lib/push/openConversation.ts';
import { recipientOf, storePushed } from './lib/sync/pushed.ts';
import { registerMediaRoute } from './lib/media/sw.ts';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// The first install controls the open page at once, so it works offline without a reload.
// Updates still wait for the user (no skipWaiting here).
clientsClaim();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^\/api\//, /^\/sync\//],
  }),
);

// Media (content-addressed, immutable): cache first, so what was seen stays viewable offline.
registerMediaRoute();

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

function parse(event: PushEvent): PushPayload | null {
  try {
    const parsed = PushPayload.safeParse(event.data?.json());
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function setBadge(unread: number): Promise<void> {
  if (!('setAppBadge' in self.navigator)) return;
  await (unread > 0 ? self.navigator.setAppBadge(unread) : self.navigator.clearAppBadge()).catch(() => undefined);
}

/** The notification never waits longer than this for the device's store (busy, or being upgraded by a page). */
const STORE_WAIT_MS = 2000;

/** The signed-in user the push is for; null when it is for nobody signed in here; undefined when the store did not answer in time. */
function recipient(payload: PushPayload): Promise<string | null | undefined> {
  const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), STORE_WAIT_MS));
  return Promise.race([recipientOf(payload).catch(() => null), late]);
}

async function onPush(payload: PushPayload | null): Promise<void> {
  const me = payload === null ? null : await recipient(payload);
  // Unreadable, or for someone no longer signed in here: say no more than that something came.
  if (payload === null || me === null) {
    await self.registration.showNotification(FALLBACK.title, FALLBACK.options);
    return;
  }
  const [current] = await self.registration.getNotifications({ tag: payload.peer });
  const plan = planNotification(payload, notificationData(current?.data));
  const shown = plan.show ? self.registration.showNotification(plan.title, plan.options) : Promise.resolve(current?.close());
  // The store and the badge never keep the notification from showing.
  const stored = me === undefined ? Promise.resolve() : storePushed(payload, me).catch((e: unknown) => console.error('push: could not store the message', e));
  await Promise.all([shown, stored, setBadge(payload.unread)]);
}

/** Pushes are handled one after the other: each reads the notification the one before left. */
let pushes: Promise<void> = Promise.resolve();

self.addEventListener('push', (event: PushEvent) => {
  const payload = parse(event);
  pushes = pushes.then(() => onPush(payload)).catch((e: unknown) => console.error('push: not handled', e));
  event.waitUntil(pushes);
});

self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  event.waitUntil(openConversationFromNotification(event.notification.data, self.clients, self.location.origin));
});
