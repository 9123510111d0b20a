/** Relations and settings in SQLite: `relations` (directed, keyed by owner, kind and other) and `settings` (JSON by key). */
import type Database from 'better-sqlite3';
import type { RelationChange, RelationRow, SocialStore } from '../stores/social.ts';
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
}
