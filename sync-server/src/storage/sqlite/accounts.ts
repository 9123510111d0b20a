/** Users and sessions in SQLite: `users` (ids unique regardless of ASCII case: see sqlite-db.ts) and `sessions`. */
import type Database from 'better-sqlite3';
import { DELETED_NICKNAME, likeLiteral, toUser, type SessionRecord, type SessionStore, type UserPatch, type UserRecord, type UserRow, type UserStore } from '../stores/accounts.ts';
import type { Sync } from './sync.ts';

interface SessionRow {
  id: string;
  user: string;
  device: string;
  label: string;
  created: number;
  last_used: number;
  refresh_hash: string;
}

const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  user: row.user,
  device: row.device,
  label: row.label,
  created: row.created,
  lastUsed: row.last_used,
  refreshHash: row.refresh_hash,
});

export class SqliteUsers implements Sync<UserStore> {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    // JavaScript's lower case, not SQLite's (ASCII only): nicknames match as in the other backends.
    db.function('parley_lower', { deterministic: true }, (value: unknown) => String(value).toLowerCase());
    this.stmt = {
      // Checked here, not only by the index: a file with case clashes has a plain one (see migrateUserIdCase).
      insert: db.prepare<[string, string | null, string, string | null, string, string, number, string]>(
        'INSERT INTO users (id, password_hash, nickname, avatar, about, role, created) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = ? COLLATE NOCASE)',
      ),
      get: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      find: db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE id = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1'),
      isAvatar: db.prepare<[string], { ok: number }>('SELECT EXISTS (SELECT 1 FROM users WHERE avatar = ?) AS ok'),
      setNickname: db.prepare<[string, string]>('UPDATE users SET nickname = ? WHERE id = ?'),
      setAvatar: db.prepare<[string | null, string]>('UPDATE users SET avatar = ? WHERE id = ?'),
      setAbout: db.prepare<[string, string]>('UPDATE users SET about = ? WHERE id = ?'),
      setPassword: db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE id = ?'),
      setReadReceipts: db.prepare<[number, string]>('UPDATE users SET read_receipts = ? WHERE id = ?'),
      setPresence: db.prepare<[string, string]>('UPDATE users SET presence = ? WHERE id = ?'),
      setLastSeen: db.prepare<[number, string]>('UPDATE users SET last_seen = ? WHERE id = ?'),
      // A scan of users (no index serves a word of a nickname): a search is rate-limited per user, and pages are short.
      search: db.prepare<{ after: string | null; exact: string; prefix: string; word: string; limit: number }, UserRow>(
        `SELECT * FROM users WHERE (@after IS NULL OR id > @after) AND deleted IS NULL AND (id = @exact COLLATE NOCASE OR (discoverable = 1 AND
           (id LIKE @prefix ESCAPE '\\' OR parley_lower(nickname) LIKE @prefix ESCAPE '\\' OR parley_lower(nickname) LIKE @word ESCAPE '\\')))
         ORDER BY id LIMIT @limit`,
      ),
      setDiscoverable: db.prepare<[number, string]>('UPDATE users SET discoverable = ? WHERE id = ?'),
      setErased: db.prepare<[number, string]>('UPDATE users SET erased = ? WHERE id = ?'),
      tombstone: db.prepare<[string, number, string]>(
        'UPDATE users SET password_hash = NULL, nickname = ?, avatar = NULL, discoverable = 0, deleted = COALESCE(deleted, ?) WHERE id = ?',
      ),
      deleting: db.prepare<[], { id: string }>('SELECT id FROM users WHERE deleted IS NOT NULL AND erased IS NULL ORDER BY id'),
    };
  }

  createUser(u: UserRecord): boolean {
    return this.stmt.insert.run(u.id, u.passwordHash, u.nickname, u.avatar, u.about ?? '', u.role, u.created, u.id).changes === 1;
  }

  getUser(id: string): UserRecord | undefined {
    const row = this.stmt.get.get(id);
    return row && toUser(row);
  }

  findUser(id: string): UserRecord | undefined {
    const row = this.stmt.find.get(id, id);
    return row && toUser(row);
  }

  updateUser(id: string, patch: UserPatch): UserRecord | undefined {
    return this.db.transaction(() => {
      if (patch.nickname !== undefined) this.stmt.setNickname.run(patch.nickname, id);
      if (patch.avatar !== undefined) this.stmt.setAvatar.run(patch.avatar, id);
      if (patch.about !== undefined) this.stmt.setAbout.run(patch.about, id);
      if (patch.passwordHash !== undefined) this.stmt.setPassword.run(patch.passwordHash, id);
      if (patch.readReceipts !== undefined) this.stmt.setReadReceipts.run(patch.readReceipts ? 1 : 0, id);
      if (patch.presence !== undefined) this.stmt.setPresence.run(patch.presence, id);
      if (patch.lastSeen !== undefined) this.stmt.setLastSeen.run(patch.lastSeen, id);
      if (patch.discoverable !== undefined) this.stmt.setDiscoverable.run(patch.discoverable ? 1 : 0, id);
      if (patch.erased !== undefined) this.stmt.setErased.run(patch.erased, id);
      return this.getUser(id);
    })();
  }

  isAvatar(url: string): boolean {
    return this.stmt.isAvatar.get(url)?.ok === 1;
  }

  searchUsers(query: string, after: string | null, limit: number): UserRecord[] {
    const literal = likeLiteral(query.toLowerCase());
    return this.stmt.search.all({ after, exact: query, prefix: `${literal}%`, word: `% ${literal}%`, limit }).map(toUser);
  }

  deleteUser(id: string, at: number): UserRecord | undefined {
    this.stmt.tombstone.run(DELETED_NICKNAME, at, id);
    return this.getUser(id);
  }

  deletingUsers(): string[] {
    return this.stmt.deleting.all().map((row) => row.id);
  }
}

export class SqliteSessions implements Sync<SessionStore> {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      all: db.prepare<[], SessionRow>('SELECT * FROM sessions'),
      of: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE user = ? ORDER BY created'),
      get: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      put: db.prepare<[SessionRow]>(
        'INSERT OR REPLACE INTO sessions (id, user, device, label, created, last_used, refresh_hash) VALUES (@id, @user, @device, @label, @created, @last_used, @refresh_hash)',
      ),
      rotate: db.prepare<[string, number, string, string]>('UPDATE sessions SET refresh_hash = ?, last_used = ? WHERE id = ? AND refresh_hash = ?'),
      touch: db.prepare<[number, string]>('UPDATE sessions SET last_used = MAX(last_used, ?) WHERE id = ?'),
      delete: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    };
  }

  sessions(): SessionRecord[] {
    return this.stmt.all.all().map(toSession);
  }

  sessionsOf(user: string): SessionRecord[] {
    return this.stmt.of.all(user).map(toSession);
  }

  getSession(id: string): SessionRecord | undefined {
    const row = this.stmt.get.get(id);
    return row && toSession(row);
  }

  putSession(s: SessionRecord): void {
    this.stmt.put.run({ id: s.id, user: s.user, device: s.device, label: s.label, created: s.created, last_used: s.lastUsed, refresh_hash: s.refreshHash });
  }

  rotateSession(id: string, expected: string, next: string, lastUsed: number): boolean {
    return this.stmt.rotate.run(next, lastUsed, id, expected).changes === 1;
  }

  touchSession(id: string, lastUsed: number): void {
    this.stmt.touch.run(lastUsed, id);
  }

  deleteSessions(ids: readonly string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.delete.run(id);
    })();
  }
}
