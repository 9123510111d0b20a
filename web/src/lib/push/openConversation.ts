/**
 * A notification click: the conversation it is about, in a window of the app.
 * A window already open is focused and told to open the conversation (its
 * router changes the URL, no reload); with none, a new one opens at the
 * conversation's URL. The service worker's `notificationclick` calls this;
 * the page's side is in pwa/pwa.ts.
 */
import { conversationHref } from '../shared/routes.ts';
import { OPEN_CONVERSATION, type OpenConversation } from '../shared/windowMessages.ts';

/** What of the worker's `clients` and its window clients this uses (a fake stands in for tests). */
export interface WindowLike {
  readonly focused: boolean;
  readonly visibilityState: DocumentVisibilityState;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

export interface ClientsLike {
  matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowLike[]>;
  openWindow(url: string): Promise<unknown>;
}

/** The window to use: the one in front, else a visible one, else any. */
function pick(windows: readonly WindowLike[]): WindowLike | undefined {
  return windows.find((w) => w.focused) ?? windows.find((w) => w.visibilityState === 'visible') ?? windows[0];
}

/**
 * Opens the conversation a notification's `data` names (`{peer}`), or the
 * app's list when it names none. `origin`: the worker's, for the new window's URL.
 */
export async function openConversationFromNotification(data: unknown, clients: ClientsLike, origin: string): Promise<void> {
  const peer = (data as { peer?: unknown } | null)?.peer;
  const path = typeof peer === 'string' && peer !== '' ? conversationHref(peer) : '/';
  const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  const target = pick(windows);
  if (target === undefined) {
    await clients.openWindow(new URL(path, origin).href);
    return;
  }
  if (typeof peer === 'string' && peer !== '') target.postMessage({ type: OPEN_CONVERSATION, peer } satisfies OpenConversation);
  // Focus is allowed within a click's event; a browser that still refuses leaves the window where it is.
  await target.focus().catch(() => undefined);
}
