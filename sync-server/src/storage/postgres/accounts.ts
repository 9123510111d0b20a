/**
 * Users and sessions in PostgreSQL: `users` (ids unique regardless of ASCII
 * case: a unique index on lower(id), see migrations.ts) and `sessions`.
 */
import type pg from 'pg';
import { DELETED_NICKNAME, likeLiteral, toUser, type SessionRecord, type SessionStore, type UserPatch, type UserRecord, type UserRow, type UserStore } from '../stores/accounts.ts';

interface SessionRow {
  id: string;
  user_id: string;
  device: string;
  label: string;
  created: number;
  last_used: number;
  refresh_hash: string;
}

const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  user: row.user_id,
  device: row.device,
  label: row.label,
  created: row.created,
  lastUsed: row.last_used,
  refreshHash: row.refresh_hash,
});

export class PgUsers implements UserStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The unique index on lower(id) decides, also between processes signing up the same id at once. */
  async createUser(u: UserRecord): Promise<boolean> {
    const result = await this.pool.query(
      'INSERT INTO users (id, password_hash, nickname, avatar, about, role, created) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [u.id, u.passwordHash, u.nickname, u.avatar, u.about ?? '', u.role, u.created],
    );
    return result.rowCount === 1;
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] && toUser(rows[0]);
  }

  async findUser(id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE lower(id) = lower($1) ORDER BY id = $1 DESC LIMIT 1', [id]);
    return rows[0] && toUser(rows[0]);
  }

  /**
   * One statement: a field the patch leaves out (undefined, sent as NULL)
   * keeps its value. Only the avatar is ever set to NULL by a patch (`avatar:
   * null`, removed): $9 says so.
   */
  async updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `UPDATE users SET nickname = COALESCE($2, nickname), avatar = CASE WHEN $9 THEN NULL ELSE COALESCE($3, avatar) END, password_hash = COALESCE($4, password_hash),
         read_receipts = COALESCE($5, read_receipts), presence = COALESCE($6, presence), last_seen = COALESCE($7, last_seen),
         discoverable = COALESCE($8, discoverable), about = COALESCE($10, about), erased = COALESCE($11, erased) WHERE id = $1 RETURNING *`,
      [
        id,
        patch.nickname ?? null,
        patch.avatar ?? null,
        patch.passwordHash ?? null,
        patch.readReceipts === undefined ? null : patch.readReceipts ? 1 : 0,
        patch.presence ?? null,
        patch.lastSeen ?? null,
        patch.discoverable === undefined ? null : patch.discoverable ? 1 : 0,
        patch.avatar === null,
        patch.about ?? null,
        patch.erased ?? null,
      ],
    );
    return rows[0] && toUser(rows[0]);
  }

  /** A scan of users (no index serves a word of a nickname): a search is rate-limited per user, and pages are short. */
  async searchUsers(query: string, after: string | null, limit: number): Promise<UserRecord[]> {
    const literal = likeLiteral(query.toLowerCase());
    const { rows } = await this.pool.query<UserRow>(
      `SELECT * FROM users WHERE ($1::text IS NULL OR id COLLATE "C" > $1) AND deleted IS NULL AND (lower(id) = lower($2) OR (discoverable = 1 AND
         (lower(id) LIKE $3 OR lower(nickname) LIKE $3 OR lower(nickname) LIKE $4)))
       ORDER BY id COLLATE "C" LIMIT $5`,
      [after, query, `${literal}%`, `% ${literal}%`, limit],
    );
    return rows.map(toUser);
  }

  async deleteUser(id: string, at: number): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      'UPDATE users SET password_hash = NULL, nickname = $1, avatar = NULL, discoverable = 0, deleted = COALESCE(deleted, $2) WHERE id = $3 RETURNING *',
      [DELETED_NICKNAME, at, id],
    );
    return rows[0] && toUser(rows[0]);
  }

  async deletingUsers(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM users WHERE deleted IS NOT NULL AND erased IS NULL ORDER BY id');
    return rows.map((row) => row.id);
  }

  async isAvatar(url: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ ok: boolean }>('SELECT EXISTS (SELECT 1 FROM users WHERE avatar = $1) AS ok', [url]);
    return rows[0]?.ok === true;
  }
}

export class PgSessions implements SessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async sessions(): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions');
    return rows.map(toSession);
  }

  async sessionsOf(user: string): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE user_id = $1 ORDER BY created', [user]);
    return rows.map(toSession);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
    return rows[0] && toSession(rows[0]);
  }

  async putSession(s: SessionRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO sessions (id, user_id, device, label, created, last_used, refresh_hash) VALUES ($1, $2, $3, $4, $5, $6, $7) ' +
        'ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, device = excluded.device, label = excluded.label, created = excluded.created, ' +
        'last_used = excluded.last_used, refresh_hash = excluded.refresh_hash',
      [s.id, s.user, s.device, s.label, s.created, s.lastUsed, s.refreshHash],
    );
  }

  async rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean> {
    const result = await this.pool.query('UPDATE sessions SET refresh_hash = $1, last_used = $2 WHERE id = $3 AND refresh_hash = $4', [next, lastUsed, id, expected]);
    return result.rowCount === 1;
  }

  async touchSession(id: string, lastUsed: number): Promise<void> {
    await this.pool.query('UPDATE sessions SET last_used = GREATEST(last_used, $1) WHERE id = $2', [lastUsed, id]);
  }

  async deleteSessions(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.pool.query('DELETE FROM sessions WHERE id = ANY($1::text[])', [ids]);
  }
}
