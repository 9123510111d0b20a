/**
 * What a push shows: one notification per conversation (tagged with the
 * peer), renewed with each message and saying how many it stands for; a
 * recall takes its message back out of it. Pure, so the worker's choices can
 * be tested without a browser.
 */
import type { PushPayload } from '@parley/protocol';

export const APP_ICON = '/icons/icon-192.png';

/** `notification.data`: the conversation, its newest message, and every message it stands for. */
export interface NotificationData {
  peer: string;
  messageId: string;
  ids: string[];
}

/** What `showNotification` takes, with `renotify` and `timestamp` (not in TypeScript's DOM library) and our `data`. */
export type PlannedOptions = Omit<NotificationOptions, 'data'> & { renotify: boolean; timestamp: number; data: NotificationData };

export type NotificationPlan = { show: true; title: string; options: PlannedOptions } | { show: false };

export function notificationData(value: unknown): NotificationData | null {
  const d = value as Partial<NotificationData> | null;
  if (typeof d?.peer !== 'string' || typeof d.messageId !== 'string') return null;
  return { peer: d.peer, messageId: d.messageId, ids: Array.isArray(d.ids) ? d.ids.filter((id) => typeof id === 'string') : [d.messageId] };
}

function options(payload: PushPayload, body: string, ids: string[], renotify: boolean): PlannedOptions {
  return {
    body,
    icon: payload.sender.avatar ?? APP_ICON,
    tag: payload.peer,
    // A new message in a conversation already notified alerts again; a recall does not.
    renotify,
    silent: !renotify,
    timestamp: payload.message.ts,
    data: { peer: payload.peer, messageId: ids.at(-1) ?? payload.message.id, ids },
  };
}

/**
 * The notification for `payload`, given the one this conversation shows now
 * (its `data`, or null). `{show: false}`: close it (its only message was recalled).
 */
export function planNotification(payload: PushPayload, current: NotificationData | null): NotificationPlan {
  const title = payload.sender.nickname;
  const id = payload.message.id;
  const before = current?.peer === payload.peer ? current.ids : [];
  if (payload.kind === 'recall') {
    const rest = before.filter((x) => x !== id);
    if (before.includes(id) && rest.length === 0) return { show: false };
    return { show: true, title, options: options(payload, 'Message recalled', rest, false) };
  }
  const ids = [...before.filter((x) => x !== id), id];
  // The sender's chosen title and text (an app backend's OfflinePushInfo) stand for the name and the preview.
  const preview = payload.show?.text ?? payload.message.preview;
  const body = preview !== undefined && preview !== '' ? preview : ids.length > 1 ? `${ids.length} new messages` : 'New message';
  return { show: true, title: payload.show?.title ?? title, options: options(payload, body, ids, true) };
}

/** A push that cannot be read (or is not for the user signed in here) still shows something: iOS requires it. */
export const FALLBACK: { title: string; options: NotificationOptions } = {
  title: 'Parley',
  options: { body: 'New message', icon: APP_ICON, tag: 'parley' },
};
