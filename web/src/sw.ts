/// <reference lib="webworker" />
/**
 * Parley's service worker: precaches the app shell so that the app starts
 * with no network, answers navigations with index.html (the app routes by
 * URL), leaves /api and /sync to the network, and waits for the page's
 * SKIP_WAITING (the user accepted the update prompt) before taking over.
 * Push: shows the notification and opens the conversation on click.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

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

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

interface PushPayload {
  title?: string;
  body?: string;
  icon?: string;
  peer?: string;
  badge?: number;
}

self.addEventListener('push', (event: PushEvent) => {
  let data: PushPayload = {};
  try {
    data = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    data = { body: event.data?.text() ?? '' };
  }
  const url = data.peer === undefined ? '/' : `/c/${encodeURIComponent(data.peer)}`;
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(data.title ?? 'Parley', {
        body: data.body ?? 'New message',
        icon: data.icon ?? '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        tag: data.peer ?? 'parley',
        data: { url },
      }),
      data.badge !== undefined && 'setAppBadge' in navigator ? navigator.setAppBadge(data.badge) : Promise.resolve(),
    ]),
  );
});

self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  const url = (event.notification.data as { url?: string } | null)?.url ?? '/';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows[0];
      if (open !== undefined) {
        await open.focus();
        await open.navigate(url).catch(() => undefined);
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
