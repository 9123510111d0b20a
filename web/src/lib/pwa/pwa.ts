/**
 * The installed-app side of Parley: the service worker, registered with
 * workbox-window (a new version waits until the user accepts the prompt: then
 * it is told to skip waiting and the page reloads once it controls), what the
 * worker asks of the page (open a conversation after a notification click),
 * the Install button (`beforeinstallprompt`), the app badge, and persistent
 * storage.
 */
import { isOpenConversation } from '../shared/windowMessages.ts';
import { install } from './install.svelte.ts';
import { conversationHref, router } from '../state/router.svelte.ts';
import { update } from './update.svelte.ts';
import { report } from '../shared/errors.ts';

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  // A notification click with a window open lands here, through the app's router (no reload).
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isOpenConversation(event.data)) router.navigate(conversationHref(event.data.peer));
  });
  navigator.serviceWorker.startMessages();
  if (!import.meta.env.PROD) return;
  // workbox-window is a chunk of its own, out of the initial JS: the worker already serves this page, or will from the next load.
  void import('workbox-window')
    .then(({ Workbox }) => {
      const wb = new Workbox('/sw.js', { scope: '/' });
      wb.addEventListener('waiting', () => {
        update.apply = () => {
          wb.addEventListener('controlling', () => window.location.reload());
          wb.messageSkipWaiting();
        };
        update.waiting = true;
      });
      return wb.register();
    })
    .catch(report);
}

/** Chromium's install offer; not in TypeScript's DOM library. */
interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  readonly userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

let offer: BeforeInstallPromptEvent | null = null;

function isIos(): boolean {
  // iPadOS presents itself as a Mac; touch gives it away.
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes('Macintosh') && navigator.maxTouchPoints > 1);
}

/** Follows whether Parley can be installed, or runs installed. */
export function watchInstall(): void {
  const standalone = matchMedia('(display-mode: standalone)');
  const iosHomeScreen = (navigator as Navigator & { standalone?: boolean }).standalone === true;
  install.ios = isIos();
  install.standalone = standalone.matches || iosHomeScreen;
  standalone.addEventListener('change', (e) => {
    install.standalone = e.matches || iosHomeScreen;
  });
  window.addEventListener('beforeinstallprompt', (event) => {
    // The app offers installation with its own button instead of the browser's banner.
    event.preventDefault();
    offer = event as BeforeInstallPromptEvent;
    install.available = true;
  });
  window.addEventListener('appinstalled', () => {
    offer = null;
    install.available = false;
  });
}

/** The Install button: the browser's own dialog; the offer is used up either way. */
export async function installApp(): Promise<void> {
  const event = offer;
  if (event === null) return;
  offer = null;
  install.available = false;
  await event.prompt();
  await event.userChoice;
}

/** The unread count on the app's icon (where the platform has one). */
export function setBadge(unread: number): void {
  if (!('setAppBadge' in navigator)) return;
  const done = unread > 0 ? navigator.setAppBadge(unread) : navigator.clearAppBadge();
  // Refused outside an installed app on some platforms: the badge is a nicety.
  done.catch(() => undefined);
}

/** A conversation on screen: its notifications have nothing left to say. */
export function clearNotifications(peer: string): void {
  if (!('serviceWorker' in navigator)) return;
  void navigator.serviceWorker
    .getRegistration()
    .then(async (reg) => {
      for (const n of (await reg?.getNotifications({ tag: peer })) ?? []) n.close();
    })
    .catch(() => undefined);
}

/** Asks the browser to keep Parley's store under storage pressure (a chat history is not a cache). */
export function persistStorage(): void {
  if (!('storage' in navigator) || typeof navigator.storage.persist !== 'function') return;
  void navigator.storage
    .persisted()
    .then((persisted) => (persisted ? true : navigator.storage.persist()))
    .catch(() => undefined);
}
