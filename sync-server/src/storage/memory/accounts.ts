/** Users and sessions, in memory. */
import { DEFAULT_PRIVACY, userIdKey } from '@parley/protocol';
import { DELETED_NICKNAME, nicknameMatches, type SessionRecord, type SessionStore, type UserPatch, type UserRecord, type UserStore } from '../stores/accounts.ts';

export class MemoryUsers implements UserStore {
  private readonly users = new Map<string, UserRecord>();
  /** userIdKey(id) → id: ids are unique regardless of case. */
  private readonly userIds = new Map<string, string>();

  createUser(user: UserRecord): Promise<boolean> {
    const key = userIdKey(user.id);
    if (this.userIds.has(key)) return Promise.resolve(false);
    this.users.set(user.id, { privacy: DEFAULT_PRIVACY, lastSeen: null, about: '', deleted: null, erased: null, ...user });
    this.userIds.set(key, user.id);
    return Promise.resolve(true);
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    return Promise.resolve(user && this.copy(user));
  }

  /** A user as read back: discoverability lives in `hidden` (searchUsers reads it there). */
  private copy(user: UserRecord): UserRecord {
    return { ...user, privacy: { ...(user.privacy ?? DEFAULT_PRIVACY), discoverable: !this.hidden.has(user.id) } };
  }

  findUser(id: string): Promise<UserRecord | undefined> {
    return this.getUser(this.userIds.get(userIdKey(id)) ?? id);
  }

  updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    if (user === undefined) return Promise.resolve(undefined);
    if (patch.nickname !== undefined) user.nickname = patch.nickname;
    if (patch.avatar !== undefined) user.avatar = patch.avatar;
    if (patch.about !== undefined) user.about = patch.about;
    if (patch.passwordHash !== undefined) user.passwordHash = patch.passwordHash;
    if (patch.readReceipts !== undefined || patch.presence !== undefined) {
      const privacy = user.privacy ?? DEFAULT_PRIVACY;
      user.privacy = { ...privacy, readReceipts: patch.readReceipts ?? privacy.readReceipts, presence: patch.presence ?? privacy.presence };
    }
    if (patch.discoverable === true) this.hidden.delete(id);
    if (patch.discoverable === false) this.hidden.add(id);
    if (patch.lastSeen !== undefined) user.lastSeen = patch.lastSeen;
    if (patch.erased !== undefined) user.erased = patch.erased;
    return Promise.resolve(this.copy(user));
  }

  isAvatar(url: string): Promise<boolean> {
    return Promise.resolve([...this.users.values()].some((u) => u.avatar === url));
  }

  /** Users who turned discoverability off (it is on by default). */
  private readonly hidden = new Set<string>();

  searchUsers(query: string, after: string | null, limit: number): Promise<UserRecord[]> {
    const q = query.toLowerCase();
    const found = [...this.users.values()]
      .filter((u) => (after === null || u.id > after) && u.deleted == null)
      .filter((u) => userIdKey(u.id) === userIdKey(query) || (!this.hidden.has(u.id) && (u.id.toLowerCase().startsWith(q) || nicknameMatches(u.nickname.toLowerCase(), q))))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
    return Promise.resolve(found.map((u) => this.copy(u)));
  }

  deleteUser(id: string, at: number): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    if (user === undefined) return Promise.resolve(undefined);
    Object.assign(user, { passwordHash: null, nickname: DELETED_NICKNAME, avatar: null, deleted: user.deleted ?? at });
    this.hidden.add(id);
    return Promise.resolve(this.copy(user));
  }

  deletingUsers(): Promise<string[]> {
    return Promise.resolve([...this.users.values()].filter((u) => u.deleted != null && u.erased == null).map((u) => u.id));
  }
}

export class MemorySessions implements SessionStore {
  private readonly rows = new Map<string, SessionRecord>();

  sessions(): Promise<SessionRecord[]> {
    return Promise.resolve([...this.rows.values()].map((s) => ({ ...s })));
  }

  sessionsOf(user: string): Promise<SessionRecord[]> {
    const rows = [...this.rows.values()].filter((s) => s.user === user).sort((a, b) => a.created - b.created);
    return Promise.resolve(rows.map((s) => ({ ...s })));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.rows.get(id);
    return Promise.resolve(row && { ...row });
  }

  putSession(session: SessionRecord): Promise<void> {
    this.rows.set(session.id, { ...session });
    return Promise.resolve();
  }

  rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean> {
    const row = this.rows.get(id);
    if (row?.refreshHash !== expected) return Promise.resolve(false);
    row.refreshHash = next;
    row.lastUsed = lastUsed;
    return Promise.resolve(true);
  }

  touchSession(id: string, lastUsed: number): Promise<void> {
    const row = this.rows.get(id);
    if (row !== undefined) row.lastUsed = Math.max(row.lastUsed, lastUsed);
    return Promise.resolve();
  }

  deleteSessions(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.rows.delete(id);
    return Promise.resolve();
  }
}
