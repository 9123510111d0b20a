/**
 * The row tables of `npm run migrate`: everything but the documents, copied
 * so that each PostgreSQL table ends holding exactly the SQLite table's rows
 * (a mirror, so that a second run changes nothing and a run after the SQLite
 * install changed again catches up: rows gone there go here too).
 *
 * Per table, in one PostgreSQL transaction: the SQLite rows go into a
 * temporary table, rows whose key SQLite no longer has are deleted, the
 * others are upserted (a row already there and equal is not written, so the
 * counts say what a run changed), and the table is compared with the
 * temporary one row for row before COMMIT. Columns are matched by name
 * (`user` is `user_id` in PostgreSQL, where `user` is a keyword); a column
 * either side lacks stops the run, rather than leaving data behind.
 */
import type pg from 'pg';
import { MigrateError } from './errors.ts';
import type { SqliteSource, SqliteValue } from './source.ts';
import type { PgColumn, PostgresTarget } from './target.ts';

export interface TableSpec {
  table: string;
  /** The primary key, the same in both schemas. */
  key: readonly string[];
  /**
   * Rows are never deleted from it (accounts): a row that only PostgreSQL
   * has was written there by a server, so the install has been used on
   * PostgreSQL, and a mirror would undo that.
   */
  appendOnly?: true;
}

/** The tables copied, in this order. */
export const TABLES: readonly TableSpec[] = [
  { table: 'users', key: ['id'], appendOnly: true },
  { table: 'sessions', key: ['id'] },
  { table: 'relations', key: ['owner', 'kind', 'other'] },
  { table: 'settings', key: ['key'] },
  { table: 'invites', key: ['id'] },
  { table: 'conversations', key: ['id'] },
  { table: 'msg_index', key: ['conversation', 'seq'] },
  { table: 'segments', key: ['conversation', 'segment'] },
  { table: 'push_subscriptions', key: ['user_id', 'device'] },
  { table: 'push_queue', key: ['id'] },
  { table: 'callback_queue', key: ['id'] },
  { table: 'uploads', key: ['id'] },
  { table: 'media', key: ['hash'] },
  { table: 'media_uploaders', key: ['hash', 'user_id'] },
  { table: 'media_refs', key: ['hash', 'a', 'b'] },
  { table: 'media_waiting', key: ['hash', 'sender', 'a', 'b'] },
];

/** The SQLite tables not copied row by row, and why. */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  updates: 'documents: copied as documents (documents.ts)',
  snapshots: 'documents: copied as documents (documents.ts)',
  probe: "the storage probe's scratch row",
  meta: "facts about the SQLite file itself (its data dir's id)",
  doc_leaders: "the fencing tokens of a cluster's document authorities: the PostgreSQL servers take their own",
};

/** What one table's copy changed in PostgreSQL. */
export interface TableCopy {
  written: number;
  deleted: number;
}

/** Rows per INSERT into the temporary table: well under PostgreSQL's 65535 parameters a statement. */
const BATCH_PARAMETERS = 20_000;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** SQLite's name for a PostgreSQL column. */
const sqliteName = (column: string): string => (column === 'user_id' ? 'user' : column);

/** The PostgreSQL columns of `table`, each matched to a SQLite column; refuses when the two sides' columns differ. */
export async function matchColumns(source: SqliteSource, target: PostgresTarget, table: string): Promise<PgColumn[]> {
  const pgColumns = await target.columns(table);
  const sqliteColumns = source.columns(table);
  const missing = pgColumns.map((c) => sqliteName(c.name)).filter((c) => !sqliteColumns.includes(c));
  const extra = sqliteColumns.filter((c) => !pgColumns.some((p) => sqliteName(p.name) === c));
  if (pgColumns.length === 0 || missing.length > 0 || extra.length > 0) {
    throw new MigrateError(
      `table ${table} differs between the two schemas (${pgColumns.length === 0 ? 'PostgreSQL has no such table' : `only in PostgreSQL: ${missing.join(', ') || 'none'}; only in SQLite: ${extra.join(', ') || 'none'}`}): this migrate does not know this version's tables`,
    );
  }
  return pgColumns;
}

/** Makes PostgreSQL's `spec.table` hold exactly SQLite's rows, in one transaction; `columns` as matchColumns gave them. */
export async function copyTable(source: SqliteSource, target: PostgresTarget, spec: TableSpec, columns: readonly PgColumn[]): Promise<TableCopy> {
  const t = quote(spec.table);
  const list = columns.map((c) => quote(c.name)).join(', ');
  const convert = columns.map((c) => converter(c));
  return target.transaction(async (client) => {
    await client.query(`CREATE TEMPORARY TABLE migrate_rows (LIKE ${t}) ON COMMIT DROP`);
    const perBatch = Math.max(1, Math.min(1000, Math.floor(BATCH_PARAMETERS / columns.length)));
    let batch: unknown[][] = [];
    for (const row of source.rows(spec.table, columns.map((c) => sqliteName(c.name)))) {
      batch.push(row.map((value, i) => (convert[i] ?? same)(value)));
      if (batch.length === perBatch) {
        await insertRows(client, list, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await insertRows(client, list, batch);
    // The planner has no statistics for a fresh temporary table: without them it may join a large one row by row.
    await client.query('ANALYZE migrate_rows');

    const matches = spec.key.map((k) => `s.${quote(k)} = t.${quote(k)}`).join(' AND ');
    const deleted = (await client.query(`DELETE FROM ${t} t WHERE NOT EXISTS (SELECT 1 FROM migrate_rows s WHERE ${matches})`)).rowCount ?? 0;
    const rest = columns.map((c) => c.name).filter((c) => !spec.key.includes(c));
    const onConflict =
      rest.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${rest.map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`).join(', ')} ` +
          `WHERE (${rest.map((c) => `t.${quote(c)}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${quote(c)}`).join(', ')})`;
    const written = (await client.query(`INSERT INTO ${t} AS t (${list}) SELECT ${list} FROM migrate_rows ON CONFLICT (${spec.key.map(quote).join(', ')}) ${onConflict}`)).rowCount ?? 0;

    const { rows: differ } = await client.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM ((SELECT ${list} FROM ${t} EXCEPT ALL SELECT ${list} FROM migrate_rows) UNION ALL (SELECT ${list} FROM migrate_rows EXCEPT ALL SELECT ${list} FROM ${t})) d`,
    );
    if (Number(differ[0]?.n ?? 0) > 0) throw new Error(`${spec.table}: ${differ[0]?.n} rows differ from SQLite's after the copy (rolled back)`);
    await advanceSequences(client, spec);
    return { written, deleted };
  });
}

/**
 * Refuses, before anything is written, a database whose append-only tables
 * (accounts) hold rows SQLite lacks: a PostgreSQL server wrote them, and the
 * mirror would delete them.
 */
export async function checkAppendOnly(source: SqliteSource, target: PostgresTarget): Promise<void> {
  for (const spec of TABLES.filter((t) => t.appendOnly === true)) {
    const keys = spec.key.map(quote).join(', ');
    const has = source.has(spec.table, spec.key.map(sqliteName));
    const { rows } = await target.query<Record<string, SqliteValue>>(`SELECT ${keys} FROM ${quote(spec.table)}`);
    const only = rows.filter((row) => !has(spec.key.map((k) => row[k] ?? null))).length;
    if (only > 0) {
      throw new MigrateError(
        `PostgreSQL's ${spec.table} holds ${only} rows the SQLite install does not: a PostgreSQL server has used this database (since it was migrated to, or it holds another install), and migrating again would undo what it wrote. Nothing was written`,
      );
    }
  }
}

async function insertRows(client: pg.PoolClient, list: string, rows: unknown[][]): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((row) => `(${row.map((v) => `$${values.push(v)}`).join(', ')})`);
  await client.query(`INSERT INTO migrate_rows (${list}) VALUES ${tuples.join(', ')}`, values);
}

const same = (value: SqliteValue): unknown => value;

/** SQLite keeps booleans as 0 and 1; every other type passes as it is. */
function converter(column: PgColumn): (value: SqliteValue) => unknown {
  return column.type === 'boolean' ? (value) => (value === null ? null : Number(value) !== 0) : same;
}

/**
 * A key filled from a sequence (push_queue's id) was copied with its SQLite
 * values: the sequence moves past them, never back, so the server's next row
 * takes a new id.
 */
async function advanceSequences(client: pg.PoolClient, spec: TableSpec): Promise<void> {
  for (const key of spec.key) {
    const { rows } = await client.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [quote(spec.table), key]);
    const seq = rows[0]?.seq ?? null;
    if (seq === null) continue;
    await client.query(`SELECT setval($1::regclass, GREATEST((SELECT COALESCE(MAX(${quote(key)}), 0) FROM ${quote(spec.table)}), COALESCE(pg_sequence_last_value($1::regclass), 0), 1))`, [seq]);
  }
}
