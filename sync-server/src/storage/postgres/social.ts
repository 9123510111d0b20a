/** Relations and settings in PostgreSQL: `relations` (directed, keyed by owner, kind and other) and `settings` (JSON by key), as in SQLite. */
import type pg from 'pg';
import type { InviteRow, RelationChange, RelationRow, SocialStore } from '../stores/social.ts';
import { transaction } from './db.ts';

interface InviteSqlRow {
  id: string;
  owner: string;
  token_hash: string;
  created: string | number;
  expires: string | number;
}

const toInvite = (r: InviteSqlRow): InviteRow => ({ id: r.id, owner: r.owner, tokenHash: r.token_hash, created: Number(r.created), expires: Number(r.expires) });

export class PgSocial implements SocialStore {
  constructor(private readonly pool: pg.Pool) {}

  async relationsOf(user: string): Promise<RelationRow[]> {
    const { rows } = await this.pool.query<RelationRow>(
      "SELECT owner, kind, other, note, created FROM relations WHERE owner = $1 UNION ALL SELECT owner, kind, other, note, created FROM relations WHERE other = $1 AND kind = 'request'",
      [user],
    );
    return rows;
  }

  /** In order: a batch may put a relation and delete it again. */
  async changeRelations(changes: readonly RelationChange[]): Promise<void> {
    if (changes.length === 0) return;
    await transaction(this.pool, async (client) => {
      for (const c of changes) {
        if (c.op === 'put') {
          await client.query(
            'INSERT INTO relations (owner, kind, other, note, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, kind, other) DO UPDATE SET note = excluded.note, created = excluded.created',
            [c.row.owner, c.row.kind, c.row.other, c.row.note, c.row.created],
          );
        } else await client.query('DELETE FROM relations WHERE owner = $1 AND kind = $2 AND other = $3', [c.owner, c.kind, c.other]);
      }
    });
  }

  async settings(): Promise<Record<string, unknown>> {
    const { rows } = await this.pool.query<{ key: string; value: string }>('SELECT key, value FROM settings');
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
  }

  async putSetting(key: string, value: unknown): Promise<void> {
    await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
  }

  async putInvite(i: InviteRow): Promise<void> {
    await this.pool.query('INSERT INTO invites (id, owner, token_hash, created, expires) VALUES ($1, $2, $3, $4, $5)', [i.id, i.owner, i.tokenHash, i.created, i.expires]);
  }

  async inviteByHash(tokenHash: string): Promise<InviteRow | undefined> {
    const { rows } = await this.pool.query<InviteSqlRow>('SELECT * FROM invites WHERE token_hash = $1', [tokenHash]);
    return rows[0] && toInvite(rows[0]);
  }

  async invitesOf(owner: string): Promise<InviteRow[]> {
    const { rows } = await this.pool.query<InviteSqlRow>('SELECT * FROM invites WHERE owner = $1 ORDER BY created, id', [owner]);
    return rows.map(toInvite);
  }

  async deleteInvites(owner: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.pool.query('DELETE FROM invites WHERE owner = $1 AND id = ANY($2::text[])', [owner, [...ids]]);
    return result.rowCount ?? 0;
  }
}
