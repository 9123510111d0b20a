/**
 * Web Push on this device (protocol/src/push.ts has the contract):
 *
 *   GET    /push/key            the server's VAPID public key
 *   PUT    /push/subscription   {endpoint, keys, previews}: upserted for this device
 *   DELETE /push/subscription   at sign-out
 *
 * A device subscribes only from a person's gesture (the settings toggle, the
 * one-time prompt). On every start with permission granted and a subscription
 * held, the subscription is sent again: Chrome fires no
 * `pushsubscriptionchange`, so the server learns of a renewed one this way.
 * `pushManager.subscribe` is never awaited without a limit: a browser that
 * cannot reach its push service (headless Chromium, some privacy-minded
 * browsers) may leave it pending forever.
 */
import { PushKey, type PushSubscriptionBody } from '@parley/protocol';
import { liveQuery } from 'dexie';
import { z } from 'zod';
import { getMeta, setMeta } from '../db.ts';
import { install } from '../pwa/install.svelte.ts';
import { push, type PushSupport } from './state.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { api } from '../shared/api.ts';
import { setBadge } from '../pwa/pwa.ts';
import { AppError, codeOf, describe } from '../shared/errors.ts';

/** How long the browser gets to subscribe at its push service: seconds when it works. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** Sign-out does not wait longer than this for the push service or the server. */
const SIGN_OUT_TIMEOUT_MS = 3_000;

/** Why notifications cannot be turned on, in the person's words (not protocol codes: nothing the server said). */
const PROBLEMS = {
  unavailable: 'Notifications are not available in this browser.',
  denied: 'Notifications are blocked for Parley. Allow them in your browser’s site settings, then try again.',
} as const;

class PushProblem extends Error {
  constructor(readonly kind: keyof typeof PROBLEMS) {
    super(PROBLEMS[kind]);
    this.name = 'PushProblem';
  }
}

const PREVIEWS_KEY = 'push.previews';
const PROMPTED_KEY = 'push.prompted';

/** The server answers 204 with no body. */
const NoContent = z.unknown();

/** `promise`, or a failure after `ms`: the push service's, or the server's when `network`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: 'push' | 'network'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(what === 'push' ? new PushProblem('unavailable') : new AppError('network')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What went wrong, for the person: the push service's failures all read the same. */
function problemOf(e: unknown): string {
  if (e instanceof PushProblem) return e.message;
  return codeOf(e) === 'unexpected' ? PROBLEMS.unavailable : describe(e).text;
}

function supportOf(): PushSupport {
  const capable = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  if (capable) return 'available';
  // iOS and iPadOS give Web Push only to an app added to the Home Screen.
  return install.needsHomeScreen ? 'needs-home-screen' : 'unavailable';
}

function token(): string {
  const value = session.current;
  if (value === null) throw new AppError('token-missing');
  return value.accessToken;
}

/** The VAPID key (base64url) as the bytes `applicationServerKey` takes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function sameKey(subscription: PushSubscription, key: Uint8Array): boolean {
  const held = subscription.options.applicationServerKey;
  if (held === null) return false;
  const bytes = new Uint8Array(held);
  return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
}

async function registration(wait: boolean): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  // In development no worker is registered, and `ready` never settles.
  if (wait) return withTimeout(navigator.serviceWorker.ready, SUBSCRIBE_TIMEOUT_MS, 'push');
  return navigator.serviceWorker.getRegistration();
}

async function upload(subscription: PushSubscription): Promise<void> {
  const json = subscription.toJSON();
  const body: PushSubscriptionBody = {
    endpoint: subscription.endpoint,
    keys: { p256dh: json.keys?.['p256dh'] ?? '', auth: json.keys?.['auth'] ?? '' },
    previews: push.previews,
  };
  await api('PUT', '/push/subscription', { body, token: token(), schema: NoContent });
}

/** A subscription made with the server's current key (an old one made with another key is replaced). */
async function subscribe(reg: ServiceWorkerRegistration): Promise<PushSubscription> {
  const { publicKey } = await api('GET', '/push/key', { token: token(), schema: PushKey });
  const key = keyBytes(publicKey);
  const existing = await withTimeout(reg.pushManager.getSubscription(), SUBSCRIBE_TIMEOUT_MS, 'push');
  if (existing !== null) {
    if (sameKey(existing, key)) return existing;
    await withTimeout(existing.unsubscribe(), SUBSCRIBE_TIMEOUT_MS, 'push');
  }
  try {
    return await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), SUBSCRIBE_TIMEOUT_MS, 'push');
  } catch (e) {
    // "Registration failed", "push service not available", a timeout: all the same to the person.
    if (e instanceof AppError || e instanceof PushProblem) throw e;
    throw new PushProblem(Notification.permission === 'denied' ? 'denied' : 'unavailable');
  }
}

function watchPermission(): void {
  if (!('permissions' in navigator)) return;
  navigator.permissions
    .query({ name: 'notifications' })
    .then((status) => {
      status.onchange = () => {
        push.permission = Notification.permission;
        if (Notification.permission !== 'granted') push.subscribed = false;
      };
    })
    .catch(() => undefined);
}

let started = false;

let following = false;

/** The prompt answered in another tab of this device goes in this one too (Dexie's live queries span tabs). */
function followPrompted(): void {
  if (following) return;
  following = true;
  liveQuery(() => getMeta<boolean>(PROMPTED_KEY)).subscribe({
    next: (prompted) => {
      if (prompted === true) push.prompted = true;
    },
    error: () => undefined,
  });
}

/**
 * At start (and at each sign-in): what this device can do and has chosen,
 * and, when it holds a subscription, the server told about it again.
 */
export async function startPush(): Promise<void> {
  push.support = supportOf();
  push.previews = (await getMeta<boolean>(PREVIEWS_KEY)) ?? true;
  push.prompted = (await getMeta<boolean>(PROMPTED_KEY)) ?? false;
  followPrompted();
  if (push.support !== 'available') return;
  push.permission = Notification.permission;
  if (!started) watchPermission();
  started = true;
  const reg = await registration(false);
  const held = reg === undefined ? null : await withTimeout(reg.pushManager.getSubscription(), SUBSCRIBE_TIMEOUT_MS, 'push');
  push.subscribed = held !== null && push.permission === 'granted';
  if (!push.subscribed || reg === undefined) return;
  // Offline or a server without push: tried again at the next start.
  try {
    await upload(await subscribe(reg));
  } catch {
    return;
  }
}

/** From the toggle or the prompt (a user gesture): ask, subscribe, tell the server. */
export async function enablePush(): Promise<void> {
  push.problem = null;
  push.busy = true;
  try {
    if (push.support !== 'available') throw new PushProblem('unavailable');
    // Asked first and directly in the gesture: Safari allows the question only there.
    const permission = await Notification.requestPermission();
    push.permission = permission;
    if (permission !== 'granted') throw new PushProblem('denied');
    const reg = await registration(true);
    if (reg === undefined) throw new PushProblem('unavailable');
    const subscription = await subscribe(reg);
    try {
      await upload(subscription);
    } catch (e) {
      // The server does not know it: do not keep a subscription that brings nothing.
      await withTimeout(subscription.unsubscribe(), SUBSCRIBE_TIMEOUT_MS, 'push').catch(() => undefined);
      throw e;
    }
    push.subscribed = true;
  } catch (e) {
    push.subscribed = false;
    push.problem = problemOf(e);
  } finally {
    push.busy = false;
  }
}

/** The toggle turned off: this device gets no more pushes. */
export async function disablePush(): Promise<void> {
  push.problem = null;
  push.busy = true;
  try {
    await unsubscribe(SUBSCRIBE_TIMEOUT_MS);
    await api('DELETE', '/push/subscription', { token: token(), schema: NoContent });
  } catch (e) {
    // Unsubscribed here whatever the server said: its next push to this endpoint fails and it forgets it.
    if (codeOf(e) !== 'offline' && codeOf(e) !== 'network') push.problem = problemOf(e);
  } finally {
    push.subscribed = false;
    push.busy = false;
  }
}

/** Message previews on or off: kept on the device and sent with the subscription. */
export async function setPreviews(on: boolean): Promise<void> {
  push.previews = on;
  await setMeta(PREVIEWS_KEY, on);
  if (!push.subscribed) return;
  const reg = await registration(false);
  const held = reg === undefined ? null : await withTimeout(reg.pushManager.getSubscription(), SUBSCRIBE_TIMEOUT_MS, 'push').catch(() => null);
  if (held === null) return;
  push.problem = null;
  try {
    await upload(held);
  } catch (e) {
    push.problem = problemOf(e);
  }
}

/** The one-time prompt was answered: it does not come back on this device. */
export async function dismissPushPrompt(): Promise<void> {
  push.prompted = true;
  await setMeta(PROMPTED_KEY, true);
}

async function unsubscribe(limit: number): Promise<void> {
  const reg = await registration(false);
  const held = reg === undefined ? null : await withTimeout(reg.pushManager.getSubscription(), limit, 'push');
  if (held !== null) await withTimeout(held.unsubscribe(), limit, 'push');
}

/**
 * At sign-out, before the session goes: unsubscribe (the next user of this
 * browser gets none of these pushes) and tell the server. Never holds the
 * sign-out up for long, and never fails it.
 */
export async function endPush(accessToken: string): Promise<void> {
  push.subscribed = false;
  push.problem = null;
  setBadge(0);
  await Promise.allSettled([
    unsubscribe(SIGN_OUT_TIMEOUT_MS),
    withTimeout(api('DELETE', '/push/subscription', { token: accessToken, schema: NoContent }), SIGN_OUT_TIMEOUT_MS, 'network'),
  ]);
}
