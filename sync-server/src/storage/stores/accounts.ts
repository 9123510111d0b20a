/** Users and their sign-ins (sessions). */
import { DEFAULT_PRIVACY, type Privacy, PresenceVisibility } from '@parley/protocol';

export interface UserRecord {
  id: string;
  /** scrypt hash (see auth/passwords.ts); null for users created by an app token. */
  passwordHash: string | null;
  nickname: string;
  avatar: string | null;
  /** A line about themselves, cleaned (names.ts cleanAbout); '' or absent: none. */
  about?: string;
  role: 'user' | 'admin';
  /** ms since the epoch */
  created: number;
  /** Read receipts and presence visibility (protocol/src/privacy.ts); the defaults when absent (a new user). */
  privacy?: Privacy;
  /** When the user's last device closed the app (ms since the epoch); null when never recorded. */
  lastSeen?: number | null;
  /**
   * When the user deleted their account (ms since the epoch); null or absent
   * for a live account. A deleted account is a tombstone: the row stays so the
   * id is never taken again (conversation documents are named by user ids).
   */
  deleted?: number | null;
  /** When the deletion's erasure finished (ms since the epoch); null while it still has work (a restart resumes it). */
  erased?: number | null;
}

export type UserPatch = {
  nickname?: string | undefined;
  /** null removes the avatar. */
  avatar?: string | null | undefined;
  /** '' removes the about line. */
  about?: string | undefined;
  passwordHash?: string | undefined;
  readReceipts?: boolean | undefined;
  presence?: PresenceVisibility | undefined;
  lastSeen?: number | undefined;
  discoverable?: boolean | undefined;
  /** The deletion's erasure finished at this time (see UserRecord.erased). */
  erased?: number | undefined;
};

/** The nickname a deleted account's tombstone shows. */
export const DELETED_NICKNAME = 'Deleted account';

/**
 * A device's sign-in (auth/sessions.ts). Access tokens name it (`sid`); its
 * refresh token is stored only as a hash. Revoking it deletes the row.
 */
export interface SessionRecord {
  /** Random, never chosen by a client. */
  id: string;
  user: string;
  device: string;
  /** A short name for the user's list of devices, from the User-Agent of the sign-in. */
  label: string;
  /** ms since the epoch */
  created: number;
  /** ms since the epoch; coarse (written at most about once a minute). */
  lastUsed: number;
  /** SHA-256 (hex) of the current refresh token. */
  refreshHash: string;
}

export interface UserStore {
  /** false when the id is taken, in any ASCII case: ids are unique regardless of case (`Bob` is taken when `bob` exists). */
  createUser(user: UserRecord): Promise<boolean>;
  /** The user with exactly this id. */
  getUser(id: string): Promise<UserRecord | undefined>;
  /**
   * The user whose id is `id` regardless of ASCII case (sign-in); the exact
   * id first, for a database from before ids were unique regardless of case.
   */
  findUser(id: string): Promise<UserRecord | undefined>;
  /** The user as patched; undefined when there is none. */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined>;
  /** Whether some user's avatar is `url` (`/api/v1/media/<hash>`): avatars are readable by anyone signed in. */
  isAvatar(url: string): Promise<boolean>;
  /**
   * People search: users whose id is `query` regardless of ASCII case (found
   * even when they are not discoverable), and discoverable users whose id
   * starts with `query` or whose nickname has a word that starts with it
   * (regardless of case); ids greater than `after` (code-unit order), in that
   * order, at most `limit`. `query` is matched literally (no wildcards).
   */
  searchUsers(query: string, after: string | null, limit: number): Promise<UserRecord[]>;
  /**
   * Turns the user into a tombstone, once: no password, nickname
   * DELETED_NICKNAME, no avatar, not discoverable, `deleted` = `at` (kept
   * when it is set already, so a retry does not move it). searchUsers never
   * finds a tombstone, not even by exact id. The tombstone as it is now.
   */
  deleteUser(id: string, at: number): Promise<UserRecord | undefined>;
  /** Ids of deleted users whose erasure has not finished (erased is null): a start resumes them. */
  deletingUsers(): Promise<string[]>;
}

/** Whether a nickname has a word starting with `query` (both already lower case): the rule every backend's search follows. */
export const nicknameMatches = (nickname: string, query: string): boolean => nickname.startsWith(query) || nickname.includes(` ${query}`);

/** `query` as a LIKE pattern's literal part (`\` escapes; SQL backends say `ESCAPE '\'`). */
export const likeLiteral = (query: string): string => query.replace(/[\\%_]/g, (c) => `\\${c}`);

export interface SessionStore {
  /** Every session (loaded once at start: the server keeps the live ids in memory). */
  sessions(): Promise<SessionRecord[]>;
  /** `user`'s sessions, oldest first. */
  sessionsOf(user: string): Promise<SessionRecord[]>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  putSession(session: SessionRecord): Promise<void>;
  /**
   * Replaces the refresh hash of session `id` only while it is still
   * `expected` (so one refresh token rotates once, however many requests
   * race with it); true when it did.
   */
  rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean>;
  /** Moves `lastUsed` forward (never back: touches may arrive out of order). */
  touchSession(id: string, lastUsed: number): Promise<void>;
  deleteSessions(ids: readonly string[]): Promise<void>;
}

/** A row of the `users` table, as SQLite and PostgreSQL both hold it. */
export interface UserRow {
  id: string;
  password_hash: string | null;
  nickname: string;
  avatar: string | null;
  about: string;
  role: string;
  created: number;
  /** 1 (on) or 0. */
  read_receipts: number;
  /** 1 (people search finds them) or 0. */
  discoverable: number;
  presence: string;
  last_seen: number | null;
  deleted: number | null;
  erased: number | null;
}

/** A `users` row as a UserRecord (an unknown role reads as `user`). */
export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  passwordHash: row.password_hash,
  nickname: row.nickname,
  avatar: row.avatar,
  about: row.about,
  role: row.role === 'admin' ? 'admin' : 'user',
  created: row.created,
  privacy: { readReceipts: row.read_receipts !== 0, presence: presenceOf(row.presence), discoverable: row.discoverable !== 0 },
  lastSeen: row.last_seen,
  deleted: row.deleted === null ? null : Number(row.deleted),
  erased: row.erased === null ? null : Number(row.erased),
});

/** A stored presence setting; one that no longer parses reads as the default. */
function presenceOf(value: string): PresenceVisibility {
  const parsed = PresenceVisibility.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_PRIVACY.presence;
}
