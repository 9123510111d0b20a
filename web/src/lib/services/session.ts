/**
 * Identity on this device: the device id (made once, kept in Dexie), the
 * session (kept in Dexie so the app opens signed in while offline), token
 * refresh before expiry, and the sync hub that runs while signed in.
 */
import { ProfileEntry, Session, type Session as SessionValue } from '@parley/protocol';
import { db, getMeta, setMeta, userTables } from '../db.ts';
import { MEDIA_CACHE } from '../mediaCache.ts';
import { randomId } from '../ids.ts';
import { syncFeed } from '../client/events.ts';
import { connection } from '../state/connection.svelte.ts';
import { presence } from '../state/presence.svelte.ts';
import { session } from '../state/session.svelte.ts';
import { SyncHub } from '../sync/hub.ts';
import { api } from './api.ts';
import { AppError, codeOf, report, textOf } from './errors.ts';
import { endPush, startPush } from './push.ts';
import { persistStorage } from './pwa.ts';
import { mediaOutbox } from './mediaOutbox.ts';

/** Refresh this long before the token expires. */
const REFRESH_MARGIN_S = 5 * 60;

let hub: SyncHub | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

export function currentHub(): SyncHub {
  if (hub === null) throw new AppError('token-missing');
  return hub;
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

/** At start: the stored session, if any; the app opens with it, online or not. */
export async function restore(): Promise<void> {
  try {
    const stored = Session.safeParse(await getMeta('session'));
    if (stored.success) begin(stored.data);
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
  if (hub !== null && hub.me === value.user) return;
  hub?.stop();
  hub = new SyncHub({
    me: value.user,
    wsBase: wsBase(),
    token: () => session.current?.accessToken ?? '',
    tokenExpired: () => refresh(),
    refused: (_path, code) => report(new AppError(code)),
    typing: (peer, typing) => presence.set(peer, typing),
    online: (peer, online) => presence.setOnline(peer, online),
    // The UI follows these through the client's events (lib/client/events.ts), as an embedding app would.
    syncing: (busy) => syncFeed.busy(busy),
    reachable: (reachable) => syncFeed.reachable(reachable),
    error: report,
  });
  hub.start();
  // Re-sends a held push subscription; offline or unsupported, quietly nothing (tried at the next start).
  startPush().catch(() => undefined);
  const started = hub;
  mediaOutbox.start({
    token: () => session.current?.accessToken ?? '',
    refresh: () => refresh(),
    flush: (path) => started.flushOutbox(path),
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

export async function signUp(user: string, nickname: string, password: string): Promise<void> {
  const value = await api('POST', '/auth/signup', { body: { user, nickname, password, device: await deviceId() }, schema: Session });
  await adopt(value);
}

export async function signOut(): Promise<void> {
  // While the token still works: this device stops getting the user's pushes.
  const token = session.current?.accessToken;
  if (token !== undefined) await endPush(token);
  clearTimeout(refreshTimer);
  hub?.stop();
  mediaOutbox.stop();
  hub = null;
  syncFeed.reset();
  connection.reachable = null;
  connection.syncing = false;
  session.current = null;
  await clearUserData();
  await db.meta.bulkDelete(['session', 'owner']);
}

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

/** A fresh token for this device; a refused refresh ends the session (the user signs in again). */
export async function refresh(): Promise<void> {
  const value = session.current;
  if (value === null) return;
  try {
    const next = await api('POST', '/auth/refresh', { body: { device: value.device }, token: value.accessToken, schema: Session });
    await setMeta('session', next);
    session.current = next;
    scheduleRefresh(next);
    hub?.connectAll();
  } catch (e) {
    const code = codeOf(e);
    if (code === 'token-expired' || code === 'token-invalid' || code === 'token-missing') {
      clearTimeout(refreshTimer);
      hub?.stop();
      mediaOutbox.stop();
      hub = null;
      session.current = null;
      session.reason = textOf('token-expired');
      await db.meta.delete('session');
      return;
    }
    throw e;
  }
}

/** A user's profile from the server, cached for the conversation list. */
export async function fetchProfile(user: string): Promise<void> {
  const value = session.current;
  if (value === null) return;
  const profile = await api('GET', `/users/${encodeURIComponent(user)}`, { token: value.accessToken, schema: ProfileEntry });
  await db.profiles.put(profile);
}
