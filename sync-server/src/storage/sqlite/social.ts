/**
 * Relations and settings in SQLite: `relations` (directed, keyed by owner,
 * kind and other), `settings` (JSON by key) and `invites` (by id, found by
 * their token's hash).
 */

interface InviteSqlRow {
  id: string;
  owner: string;
  token_hash: string;
  created: number;
  expires: number;
}

const toInvite = (r: InviteSqlRow): InviteRow => ({ id: r.id, owner: r.owner, tokenHash: r.token_hash, created: r.created, expires: r.expires });
import type Database from 'better-sqlite3';
import type { InviteRow, RelationChange, RelationRow, SocialStore } from '../stores/social.ts';
import type { Sync } from './sync.ts';

export class SqliteSocial implements Sync<SocialStore> {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      relationsOf: db.prepare<[string, string], RelationRow>(
        "SELECT owner, kind, other, note, created FROM relations WHERE owner = ? UNION ALL SELECT owner, kind, other, note, created FROM relations WHERE other = ? AND kind = 'request'",
      ),
      putRelation: db.prepare<[string, string, string, string | null, number]>(
        'INSERT INTO relations (owner, kind, other, note, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner, kind, other) DO UPDATE SET note = excluded.note, created = excluded.created',
      ),
      deleteRelation: db.prepare<[string, string, string]>('DELETE FROM relations WHERE owner = ? AND kind = ? AND other = ?'),
      settings: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings'),
      putSetting: db.prepare<[string, string]>('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      putInvite: db.prepare<[string, string, string, number, number]>('INSERT INTO invites (id, owner, token_hash, created, expires) VALUES (?, ?, ?, ?, ?)'),
      inviteByHash: db.prepare<[string], InviteSqlRow>('SELECT * FROM invites WHERE token_hash = ?'),
      invitesOf: db.prepare<[string], InviteSqlRow>('SELECT * FROM invites WHERE owner = ? ORDER BY created, id'),
      deleteInvite: db.prepare<[string, string]>('DELETE FROM invites WHERE owner = ? AND id = ?'),
    };
  }

  relationsOf(user: string): RelationRow[] {
    return this.stmt.relationsOf.all(user, user);
  }

  changeRelations(changes: readonly RelationChange[]): void {
    this.db.transaction(() => {
      for (const c of changes) {
        if (c.op === 'put') this.stmt.putRelation.run(c.row.owner, c.row.kind, c.row.other, c.row.note, c.row.created);
        else this.stmt.deleteRelation.run(c.owner, c.kind, c.other);
      }
    })();
  }

  settings(): Record<string, unknown> {
    return Object.fromEntries(this.stmt.settings.all().map((r) => [r.key, JSON.parse(r.value) as unknown]));
  }

  putSetting(key: string, value: unknown): void {
    this.stmt.putSetting.run(key, JSON.stringify(value));
  }

  putInvite(i: InviteRow): void {
    this.stmt.putInvite.run(i.id, i.owner, i.tokenHash, i.created, i.expires);
  }

  inviteByHash(tokenHash: string): InviteRow | undefined {
    const row = this.stmt.inviteByHash.get(tokenHash);
    return row && toInvite(row);
  }

  invitesOf(owner: string): InviteRow[] {
    return this.stmt.invitesOf.all(owner).map(toInvite);
  }

  deleteInvites(owner: string, ids: readonly string[]): number {
    return this.db.transaction(() => ids.reduce((n, id) => n + this.stmt.deleteInvite.run(owner, id).changes, 0))();
  }
}
