/**
 * The SQLite side of `npm run migrate`: a data dir opened as the server opens
 * it (its lock taken, its database checked and matched to its marker), and
 * read through ONE read transaction from open to close, so that every table
 * and every document comes from the same committed state. The lock keeps
 * servers and restores off the data dir meanwhile; the read transaction
 * makes the copy consistent even so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { databaseProblems, describeProblems, DATABASE_FILE, lockDataDir, matchMarker, type DataDirLock } from '../storage/data-dir.ts';
import { dataDirId, openDatabase, userIdClashes } from '../storage/sqlite-db.ts';
import { SqliteDocs } from '../storage/sqlite/docs.ts';
import type { DocParts } from './checksum.ts';
import { MigrateError } from './errors.ts';

export type SqliteValue = string | number | bigint | Buffer | null;

export class SqliteSource {
  private readonly docs: SqliteDocs;

  private constructor(
    readonly dataDir: string,
    private readonly db: Database.Database,
    private readonly lock: DataDirLock,
  ) {
    this.docs = new SqliteDocs(db, []);
  }

  /** Refuses (MigrateError, or the data dir's own DataDirError) a missing, busy, damaged or mixed-up data dir. */
  static open(dataDir: string): SqliteSource {
    const file = join(dataDir, DATABASE_FILE);
    if (!existsSync(file)) throw new MigrateError(`${file} does not exist: --from must be the data dir of a Parley install on SQLite (PARLEY_DATA_DIR, default ./data)`);
    const lock = lockDataDir(dataDir, 'a migration');
    let db: Database.Database | null = null;
    try {
      const problems = databaseProblems(file, 'quick');
      if (problems.length > 0) throw new MigrateError(`${file} is damaged (${describeProblems('quick', problems)}): restore a backup (docs/operations.md) and migrate that`);
      // As a server opens it: a file of an older version gets the current tables first.
      db = openDatabase(file);
      matchMarker(dataDir, dataDirId(db));
      const clashes = userIdClashes(db);
      if (clashes.length > 0) {
        throw new MigrateError(
          `user ids that differ only in case (${clashes.map((ids) => ids.join(' / ')).join('; ')}): PostgreSQL keeps ids unique regardless of case. Rename or merge them on SQLite first`,
        );
      }
      db.exec('BEGIN');
      // A deferred transaction starts reading at its first read: this one fixes the state every later read sees.
      db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
      return new SqliteSource(dataDir, db, lock);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  get id(): string {
    return dataDirId(this.db);
  }

  /** The tables of the file, but SQLite's own. */
  tables(): string[] {
    return this.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((row) => row.name);
  }

  columns(table: string): string[] {
    return this.db
      .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid')
      .all(table)
      .map((row) => row.name);
  }

  count(table: string): number {
    return this.db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`).get()?.n ?? 0;
  }

  /** Every row of `table`, as arrays of `columns`, one at a time (a table may be larger than memory). */
  rows(table: string, columns: readonly string[]): IterableIterator<SqliteValue[]> {
    return this.db
      .prepare(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}"`)
      .raw()
      .iterate() as IterableIterator<SqliteValue[]>;
  }

  /** A lookup of rows of `table` by `columns` (a key). */
  has(table: string, columns: readonly string[]): (values: SqliteValue[]) => boolean {
    const stmt = this.db.prepare(`SELECT 1 FROM "${table}" WHERE ${columns.map((c) => `"${c}" = ?`).join(' AND ')}`);
    return (values) => stmt.get(...values) !== undefined;
  }

  /** The name of every stored document (a snapshot, log rows, or both), sorted. */
  documentNames(): string[] {
    return this.db
      .prepare<[], { doc: string }>('SELECT doc FROM snapshots UNION SELECT doc FROM updates ORDER BY doc')
      .all()
      .map((row) => row.doc);
  }

  loadDoc(name: string): DocParts {
    return this.docs.loadDoc(name);
  }

  /** Ends the read transaction, closes the file and lets servers in again. */
  close(): void {
    try {
      // Only read: ending the transaction either way is the same, and close ends it anyway.
      if (this.db.inTransaction) this.db.exec('COMMIT');
    } finally {
      this.db.close();
      this.lock.release();
    }
  }
}
