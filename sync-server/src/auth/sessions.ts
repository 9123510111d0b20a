/**
 * Sessions: each device sign-in (sign-up, password, app token) is one row of
 * the `sessions` table, named by a random id that its access tokens carry
 * (`sid`). What this module guarantees:
 *
 * - `check` is a lookup in memory (every live id is loaded at start, and this
 *   server is the only writer), so a revoked session's access token is
 *   refused on its very next request, HTTP or socket, at no storage cost.
 * - A refresh token (`<sid>.<secret>`, stored only as its SHA-256) works
 *   once: its use rotates it (compare-and-set in storage, so two requests
 *   racing with one token cannot both win). Showing a token of the session
 *   that is no longer its current one means two parties hold it (a thief and
 *   the device): the whole session is revoked.
 * - A refresh token works only for the device it was issued to, and not
 *   after the session was idle for `idleMs`.
 * - Revoking tells the listeners first (the sockets close at once), then
 *   deletes the rows; the promise settles once that is durable.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionInfo } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Storage } from '../storage/storage.ts';

/** `lastUsed` is written at most this often per session: one small write a minute, not one per request. */
export const TOUCH_EVERY_MS = 60_000;

export interface RevokedSession {
  id: string;
  user: string;
  device: string;
}

interface Live {
  user: string;
  device: string;
  lastUsed: number;
}

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const newRefreshToken = (id: string): string => `${id}.${randomBytes(32).toString('base64url')}`;

export class Sessions {
  private readonly live = new Map<string, Live>();
  /** The live session ids of each user (signing a user's other devices out needs no scan). */
  private readonly byUser = new Map<string, Set<string>>();
  private readonly listeners: ((revoked: readonly RevokedSession[]) => void)[] = [];

  private constructor(
    private readonly storage: Storage,
    private readonly idleMs: number,
    private readonly log: Log,
  ) {}

  /** Loads every live session; sessions idle for longer than `idleMs` are deleted instead. */
  static async load(storage: Storage, idleMs: number, log: Log): Promise<Sessions> {
    const sessions = new Sessions(storage, idleMs, log);
    const now = Date.now();
    const stale: string[] = [];
    for (const s of await storage.sessions()) {
      if (now - s.lastUsed > idleMs) stale.push(s.id);
      else sessions.remember(s.id, { user: s.user, device: s.device, lastUsed: s.lastUsed });
    }
    if (stale.length > 0) await storage.deleteSessions(stale);
    return sessions;
  }

  /** Hears each session created here (a cluster tells the other processes). */
  onCreate: (session: { id: string; user: string; device: string; lastUsed: number }) => void = () => undefined;

  /**
   * Reads the live sessions again (a cluster's process after a Redis outage,
   * when it may have missed others' sign-ins and sign-outs); those gone since
   * are revoked here as if told.
   */
  async reload(): Promise<void> {
    const now = Date.now();
    const stored = new Map((await this.storage.sessions()).filter((s) => now - s.lastUsed <= this.idleMs).map((s) => [s.id, s]));
    const gone: RevokedSession[] = [];
    for (const [id, s] of [...this.live]) {
      if (stored.has(id)) continue;
      this.forget(id);
      gone.push({ id, user: s.user, device: s.device });
    }
    for (const [id, s] of stored) if (!this.live.has(id)) this.remember(id, { user: s.user, device: s.device, lastUsed: s.lastUsed });
    if (gone.length > 0) this.tell(gone);
  }

  /** A session another process of the cluster created. */
  adopt(session: { id: string; user: string; device: string; lastUsed: number }): void {
    this.remember(session.id, { user: session.user, device: session.device, lastUsed: session.lastUsed });
  }

  /** Sessions another process revoked (and deletes): forgotten here, and this process's listeners hear of them (its sockets close). */
  revokedElsewhere(revoked: readonly RevokedSession[]): void {
    const gone = revoked.filter((r) => this.forget(r.id) !== undefined);
    if (gone.length > 0) this.tell(gone);
  }

  /** Called with the sessions just revoked, before their rows are deleted. */
  onRevoke(listener: (revoked: readonly RevokedSession[]) => void): void {
    this.listeners.push(listener);
  }

  /** A new session of `user` on `device`: its id and first refresh token. */
  async create(user: string, device: string, label: string): Promise<{ id: string; refreshToken: string }> {
    const id = randomBytes(16).toString('base64url');
    const refreshToken = newRefreshToken(id);
    const now = Date.now();
    await this.storage.putSession({ id, user, device, label, created: now, lastUsed: now, refreshHash: hashOf(refreshToken) });
    this.remember(id, { user, device, lastUsed: now });
    this.onCreate({ id, user, device, lastUsed: now });
    return { id, refreshToken };
  }

  /** Whether session `id` of `user` is live; marks it used (written at most once a minute). */
  check(id: string, user: string): boolean {
    const s = this.live.get(id);
    if (s?.user !== user) return false;
    const now = Date.now();
    if (now - s.lastUsed >= TOUCH_EVERY_MS) {
      s.lastUsed = now;
      this.storage.touchSession(id, now).catch((err: unknown) => this.log.warn({ err }, 'session: last use not recorded'));
    }
    return true;
  }

  /**
   * `check`, and on a miss a look in storage: in a cluster a session created
   * on another process reaches this one through Redis a moment after its
   * sign-in answered, and the device's first request or socket may get here
   * first. A revocation deletes the row before it is told, so what storage
   * holds is live (and a revocation told later still forgets it here).
   */
  async checkOrRead(id: string, user: string): Promise<boolean> {
    if (this.check(id, user)) return true;
    const stored = await this.storage.getSession(id);
    if (stored?.user !== user || Date.now() - stored.lastUsed > this.idleMs) return false;
    if (!this.live.has(id)) this.adopt(stored);
    return this.check(id, user);
  }

  /** Whether `user` has a live session on `device`. */
  signedIn(user: string, device: string): boolean {
    for (const id of this.byUser.get(user) ?? []) if (this.live.get(id)?.device === device) return true;
    return false;
  }

  /** Exchanges a refresh token for the next one (see the header); refusals are `refresh-invalid`. */
  async refresh(token: string, device: string): Promise<{ id: string; user: string; refreshToken: string }> {
    const id = token.slice(0, Math.max(0, token.indexOf('.')));
    const live = this.live.get(id);
    const record = live === undefined ? undefined : await this.storage.getSession(id);
    if (live === undefined || record === undefined) throw new Refusal('refresh-invalid', 'this refresh token belongs to no live session');
    if (!sameHash(hashOf(token), record.refreshHash)) {
      this.log.warn({ user: record.user, device: record.device }, 'session: a rotated refresh token was used again; the session is revoked');
      await this.revoke([id]);
      throw new Refusal('refresh-invalid', 'this refresh token was used already; the session is signed out');
    }
    if (record.device !== device) throw new Refusal('refresh-invalid', 'this refresh token belongs to another device');
    const now = Date.now();
    if (now - Math.max(record.lastUsed, live.lastUsed) > this.idleMs) {
      await this.revoke([id]);
      throw new Refusal('refresh-invalid', 'this session was not used for too long');
    }
    const next = newRefreshToken(id);
    if (!(await this.storage.rotateSession(id, record.refreshHash, hashOf(next), now))) {
      // Another request with the same token rotated it first: the token was used twice.
      await this.revoke([id]);
      throw new Refusal('refresh-invalid', 'this refresh token was used already; the session is signed out');
    }
    live.lastUsed = now;
    return { id, user: record.user, refreshToken: next };
  }

  /** Revokes sessions (unknown or revoked ids are ignored). */
  async revoke(ids: readonly string[]): Promise<void> {
    const revoked: RevokedSession[] = [];
    for (const id of ids) {
      const s = this.forget(id);
      if (s !== undefined) revoked.push({ id, user: s.user, device: s.device });
    }
    if (revoked.length === 0) return;
    this.tell(revoked);
    await this.storage.deleteSessions(revoked.map((r) => r.id));
  }

  private forget(id: string): Live | undefined {
    const s = this.live.get(id);
    if (s === undefined) return undefined;
    this.live.delete(id);
    this.byUser.get(s.user)?.delete(id);
    if (this.byUser.get(s.user)?.size === 0) this.byUser.delete(s.user);
    return s;
  }

  private tell(revoked: readonly RevokedSession[]): void {
    for (const listener of this.listeners) {
      try {
        listener(revoked);
      } catch (err) {
        this.log.error({ err }, 'session: a revocation listener failed');
      }
    }
  }

  /** Revokes every session of `user` but `keep`; resolves with how many. */
  async revokeOthers(user: string, keep: string): Promise<number> {
    const others = [...(this.byUser.get(user) ?? [])].filter((id) => id !== keep);
    await this.revoke(others);
    return others.length;
  }

  /** Revokes session `id` of `user`; refused as `not-found` when it is not theirs or not live. */
  async revokeOf(user: string, id: string): Promise<void> {
    if (this.live.get(id)?.user !== user) throw new Refusal('not-found', 'no such session of yours');
    await this.revoke([id]);
  }

  /** The live sessions of `user`, oldest first; `current` marks the caller's. */
  async list(user: string, current: string): Promise<SessionInfo[]> {
    const rows = await this.storage.sessionsOf(user);
    return rows.flatMap((r) => {
      const live = this.live.get(r.id);
      if (live === undefined) return [];
      return [{ id: r.id, device: r.device, label: r.label, created: r.created, lastUsed: Math.max(r.lastUsed, live.lastUsed), current: r.id === current }];
    });
  }

  private remember(id: string, live: Live): void {
    this.live.set(id, live);
    let ids = this.byUser.get(live.user);
    if (ids === undefined) this.byUser.set(live.user, (ids = new Set()));
    ids.add(id);
  }
}

/**
 * A short name of the browser and system that signed in, for the user's list
 * of devices ("Firefox on Android"); never trusted for anything else.
 */
export function labelOf(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : null;
  const system = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  if (browser !== null && system !== null) return `${browser} on ${system}`;
  if (browser !== null || system !== null) return browser ?? system ?? '';
  // Not a browser (an app's own client, a script): its product token, bounded.
  const product = /^[\w.-]{1,32}/.exec(ua.trim())?.[0];
  return product ?? 'Unknown device';
}
