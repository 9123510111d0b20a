/**
 * Identity on this device: the device id (made once, kept in Dexie), the
 * session (kept in Dexie so the app opens signed in while offline), token
 * refresh before expiry, and the sync hub that runs while signed in.
 *
 * A refresh spends the session's refresh token: the server answers with the
 * next one and treats a second use of the old one as theft (it signs the
 * session out). Tabs share the stored session, so refreshes are serialised
 * across tabs (a Web Lock) and each re-reads the stored session first: a tab
 * that finds a newer refresh token there takes it instead of spending its
 * own, dead one. A session the server ended (signed out from another device,
 * a password change, a reused token) takes the user to the sign-in screen
 * with the reason; the local data stays for when they sign in again.
 */
import { ProfileEntry, Session, type ErrorCode, type Session as SessionValue } from '@parley/protocol';
import { z } from 'zod';
import { db, getMeta, setMeta, userTables } from '../db.ts';
import { MEDIA_CACHE } from '../media/cache.ts';
import { randomId } from '../shared/ids.ts';
import { syncFeed } from '../shared/events.ts';
import { connection } from '../state/connection.svelte.ts';
import { presence } from '../state/presence.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { SyncHub } from '../sync/hub.ts';
import { api, onSessionOver, SESSION_OVER } from '../shared/api.ts';
import { AppError, codeOf, describe, report, textOf } from '../shared/errors.ts';
import { persistStorage } from '../pwa/pwa.ts';
import { mediaOutbox } from '../media/outboxLoader.ts';

/** Push (lib/push/push.ts) is a chunk of its own, loaded once the session has started: the first screen needs none of it. */
const pushModule = (): Promise<typeof import('../push/push.ts')> => import('../push/push.ts');

/** Refresh this long before the token expires. */
const REFRESH_MARGIN_S = 5 * 60;
/** The Web Lock every tab of this origin takes to refresh (see the header). */
const REFRESH_LOCK = 'parley-refresh';
/** Sign-out tells the server, but never holds the user up for longer than this. */
const SIGN_OUT_TIMEOUT_MS = 3_000;

/** A stored session; one stored before refresh tokens existed has none (its device signs in again when next online). */
const StoredSession = Session.extend({ refreshToken: z.string().default('') });

let refreshTimer: ReturnType<typeof setTimeout> | undefined;

/** The running hub, for the services; the screen hands `session.hub` to the state that needs it. */
export function currentHub(): SyncHub {
  if (session.hub === null) throw new AppError('token-missing');
  return session.hub;
}

async function deviceId(): Promise<string> {
  let id = await getMeta<string>('device');
  if (id === undefined) {
    id = randomId();
    await setMeta('device', id);
  }
  return id;
}

function wsBase(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
}

/**
 * At start: the stored session, if any; the app opens with it, online or not.
 * `then` (a sign-in link's sign-in) runs after it and before the first
 * screen, so that the sign-in form does not flash up while it works.
 */
export async function restore(then?: () => Promise<void>): Promise<void> {
  onSessionOver((code, token) => {
    if (session.current?.accessToken === token) void endSession(code);
  });
  try {
    const stored = StoredSession.safeParse(await getMeta('session'));
    if (stored.success) begin(stored.data);
    await then?.();
  } finally {
    session.ready = true;
  }
  window.addEventListener('online', () => {
    connection.browserOnline = true;
    void refreshIfDue();
  });
  window.addEventListener('offline', () => {
    connection.browserOnline = false;
  });
}

function begin(value: SessionValue): void {
  session.current = value;
  session.reason = null;
  scheduleRefresh(value);
  if (session.hub !== null && session.hub.me === value.user) return;
  session.hub?.stop();
  const hub = new SyncHub({
    me: value.user,
    wsBase: wsBase(),
    token: () => session.current?.accessToken ?? '',
    tokenExpired: () => refresh(),
    refused: (_path, code) => (SESSION_OVER.includes(code) ? void endSession(code) : report(new AppError(code))),
    typing: (peer, typing) => presence.set(peer, typing),
    online: (peer, online) => presence.setOnline(peer, online),
    peer: ({ user, online, lastSeen, readReceipts }) => presence.setPeer(user, { online, lastSeen, readReceipts }),
    privacy: (privacy) => (presence.privacy = privacy),
    // The UI follows these through the client's events (lib/shared/events.ts), as an embedding app would.
    syncing: (busy) => syncFeed.busy(busy),
    reachable: (reachable) => syncFeed.reachable(reachable),
    error: report,
  });
  session.hub = hub;
  hub.start();
  // Re-sends a held push subscription; offline or unsupported, quietly nothing (tried at the next start).
  pushModule().then((p) => p.startPush()).catch(() => undefined);
  mediaOutbox.start({
    token: () => session.current?.accessToken ?? '',
    refresh: () => refresh(),
    flush: (path) => hub.flushOutbox(path),
    error: report,
  });
}

async function adopt(value: SessionValue): Promise<void> {
  // Another user's data never shows: a new owner starts from an empty store.
  const owner = await getMeta<string>('owner');
  if (owner !== undefined && owner !== value.user) await clearUserData();
  await setMeta('owner', value.user);
  await setMeta('session', value);
  begin(value);
  persistStorage();
}

async function clearUserData(): Promise<void> {
  await db.transaction('rw', userTables.map((t) => db.table(t)), async () => {
    for (const t of userTables) await db.table(t).clear();
  });
  // The media the user has seen goes too (the service worker's cache of it).
  if (typeof caches !== 'undefined') await caches.delete(MEDIA_CACHE).catch(() => false);
}

export async function signIn(user: string, password: string): Promise<void> {
  const value = await api('POST', '/auth/signin', { body: { user, password, device: await deviceId() }, schema: Session });
  await adopt(value);
}

/** Sign-in with the hosted chat service's UserSig, signed for `user` by the app's backend (a sign-in link). */
export async function signInWithUserSig(user: string, usersig: string): Promise<void> {
  await adopt(await api('POST', '/auth/usersig', { body: { user, usersig, device: await deviceId() }, schema: Session }));
}

/** Sign-in with a token the app's backend minted (a sign-in link). */
export async function signInWithAppToken(appToken: string): Promise<void> {
  await adopt(await api('POST', '/auth/app-token', { body: { appToken, device: await deviceId() }, schema: Session }));
}

/**
 * A sign-in the user did not type (a link's) was refused: signed out, the
 * sign-in screen says why; signed in as someone else, that session goes on
 * and a notice says why.
 */
export function linkRefused(e: unknown): void {
  if (session.current === null) session.reason = describe(e).text;
  else report(e);
}

export async function signUp(user: string, nickname: string, password: string): Promise<void> {
  const value = await api('POST', '/auth/signup', { body: { user, nickname, password, device: await deviceId() }, schema: Session });
  await adopt(value);
}

export async function signOut(): Promise<void> {
  const token = session.current?.accessToken;
  stop();
  // Stored as signed out before the screen says so: an app closed right after opens signed out (it used to open
  // signed in again when closed before the end of the network calls below).
  await db.meta.delete('session');
  session.current = null;
  if (token !== undefined) {
    // While the token still works: this device stops getting the user's pushes,
    // then the server ends the session (its tokens die, its sockets close).
    // Offline, the sign-out is local only; the session then dies unused.
    await (await pushModule()).endPush(token);
    await Promise.race([api('POST', '/auth/signout', { token, schema: z.unknown() }).catch(() => undefined), delay(SIGN_OUT_TIMEOUT_MS)]);
  }
  await clearUserData();
  await db.meta.delete('owner');
}

/**
 * This device deleted the account (services/account.ts): the server has
 * already ended every session and erased what it held, so this is a
 * sign-out without telling it: the device is wiped (this user's data, the
 * push subscription) and the sign-in screen says what happened.
 */
export async function leaveDeletedAccount(): Promise<void> {
  const token = session.current?.accessToken;
  stop();
  await db.meta.delete('session');
  session.current = null;
  session.reason = 'Your account was deleted: your messages and media are erased, and this id cannot be used again.';
  // The server dropped the subscription already; this stops the browser's (its DELETE is refused, harmlessly).
  if (token !== undefined) await pushModule().then((p) => p.endPush(token)).catch(() => undefined);
  await clearUserData();
  await db.meta.delete('owner');
}

/** "Send first" before a sign-out: the sync reconnects now rather than at its next retry (offline, it waits for the network). */
export function sendPending(): void {
  session.hub?.connectAll();
}

/** Stops everything that runs while signed in. */
function stop(): void {
  clearTimeout(refreshTimer);
  session.hub?.stop();
  mediaOutbox.stop();
  session.hub = null;
  syncFeed.reset();
  connection.reachable = null;
  connection.syncing = false;
}

/**
 * The server ended the session (or it can no longer be refreshed): back to
 * the sign-in screen, saying why. The user's data stays on the device for
 * when they sign in again (a different user's sign-in clears it, see adopt).
 */
async function endSession(code: ErrorCode): Promise<void> {
  if (session.current === null) return;
  stop();
  session.current = null;
  session.reason = textOf(code === 'session-revoked' || code === 'refresh-invalid' ? code : 'token-expired');
  await db.meta.delete('session');
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function scheduleRefresh(value: SessionValue): void {
  clearTimeout(refreshTimer);
  const due = (value.expiresAt - REFRESH_MARGIN_S) * 1000 - Date.now();
  // setTimeout overflows past ~24 days; tokens live an hour.
  refreshTimer = setTimeout(() => void refreshIfDue(), Math.max(0, Math.min(due, 2 ** 30)));
}

async function refreshIfDue(): Promise<void> {
  const value = session.current;
  if (value === null || !navigator.onLine) return;
  if (value.expiresAt - REFRESH_MARGIN_S > Date.now() / 1000) {
    scheduleRefresh(value);
    return;
  }
  await refresh().catch(report);
}

/** Runs `task` while holding the refresh lock of every tab (without Web Locks: at once). */
function withRefreshLock(task: () => Promise<void>): Promise<void> {
  if (typeof navigator.locks === 'undefined') return task();
  return navigator.locks.request(REFRESH_LOCK, task);
}

/** A fresh token for this device; a refused refresh ends the session (the user signs in again). */
export async function refresh(): Promise<void> {
  if (session.current === null) return;
  await withRefreshLock(async () => {
    let value = session.current;
    if (value === null) return;
    // Another tab may have refreshed (spending the token this tab holds) or signed out meanwhile.
    const stored = StoredSession.safeParse(await getMeta('session'));
    if (!stored.success || stored.data.user !== value.user) return endSession('session-revoked');
    if (stored.data.refreshToken !== value.refreshToken) {
      value = stored.data;
      take(value);
      if (value.expiresAt - REFRESH_MARGIN_S > Date.now() / 1000) return;
    }
    if (value.refreshToken === '') return endSession('token-expired');
    try {
      const next = await api('POST', '/auth/refresh', { body: { refreshToken: value.refreshToken, device: value.device }, schema: Session });
      await setMeta('session', next);
      take(next);
    } catch (e) {
      // Dead (rotated by a thief, signed out, idle too long) or malformed: only a new sign-in helps.
      const code = codeOf(e);
      if (code === 'refresh-invalid' || code === 'bad-request') return endSession('refresh-invalid');
      throw e;
    }
  });
}

/** Uses a newer session of the same user (refreshed here or by another tab). */
function take(next: SessionValue): void {
  session.current = next;
  scheduleRefresh(next);
  session.hub?.connectAll();
}

/** A user's profile from the server, cached for the conversation list. */
export async function fetchProfile(user: string): Promise<void> {
  const value = session.current;
  if (value === null) return;
  const profile = await api('GET', `/users/${encodeURIComponent(user)}`, { token: value.accessToken, schema: ProfileEntry });
  await db.profiles.put(profile);
}
