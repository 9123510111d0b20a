/**
 * `migrate({from, to})`: moves a Parley install from SQLite (a data dir) to
 * PostgreSQL (a URL), then verifies the copy: the run behind
 * `npm run migrate` (cli/migrate.ts), callable from tests as it is.
 *
 * 1. Takes the data dir's lock (no server or restore may run on it) and
 *    reads it through one read transaction (source.ts).
 * 2. Brings PostgreSQL to the newest schema with the backend's migrations
 *    (target.ts). Refuses, before writing anything, a database migrated
 *    from another install, a table whose columns differ between the two
 *    schemas, and a database a PostgreSQL server has used since (accounts,
 *    documents or parts of documents that SQLite lacks).
 * 3. Copies the documents (documents.ts), then the tables (tables.ts).
 * 4. Verifies, reading PostgreSQL afresh: the rows of every table and the
 *    documents counted on both sides, and every document's checksum
 *    (checksum.ts). Any difference makes the summary not `ok`.
 *
 * Running it again changes nothing when nothing changed on SQLite, and
 * catches up when something did; it refuses once a PostgreSQL server has
 * written what the SQLite install lacks. Media files are not copied: they
 * stay in the data dir's media/, which the PostgreSQL install keeps using.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mediaFile } from '../storage/media-files.ts';
import { docChecksum, loadParts } from './checksum.ts';
import { copyDocuments, loadTargetDocs, targetDocumentNames } from './documents.ts';
import { MigrateError } from './errors.ts';
import { SqliteSource } from './source.ts';
import { checkAppendOnly, copyTable, matchColumns, NOT_COPIED, TABLES, type TableSpec } from './tables.ts';
import { PostgresTarget, redact, type PgColumn } from './target.ts';

export { MigrateError } from './errors.ts';

export interface MigrateOptions {
  /** The SQLite install's data dir (PARLEY_DATA_DIR). */
  from: string;
  /** The PostgreSQL URL (PARLEY_DATABASE_URL): its first search_path schema receives the tables. */
  to: string;
  /** Progress lines; none by default. */
  log?: (line: string) => void;
}

/** One table (or the documents) counted on both sides after the copy, and what this run changed. */
export interface CountCheck {
  table: string;
  sqlite: number;
  postgres: number;
  written: number;
  deleted: number;
}

export interface MigrateSummary {
  /** Every count equal and every document's checksum equal. */
  ok: boolean;
  from: string;
  /** The URL without its password. */
  to: string;
  /** Per table, then `documents` (written: new snapshots and merges). */
  counts: CountCheck[];
  /** Documents whose checksums were compared, and those that differ (or that one side lacks). */
  documents: { checked: number; mismatched: string[] };
  /** Where the media files stay, and how many of the media rows have no file there (missing on SQLite already). */
  media: { dir: string; files: number; missing: number };
  /** What made `ok` false, one line each. */
  problems: string[];
}

/** The key in PostgreSQL's `meta` naming the data dir (its id) that was migrated into it. */
const MIGRATED_FROM = 'migrated-from';

const DOC_BATCH = 100;

export async function migrate(options: MigrateOptions): Promise<MigrateSummary> {
  const log = options.log ?? (() => undefined);
  const source = SqliteSource.open(options.from);
  try {
    const unknown = source.tables().filter((t) => !TABLES.some((s) => s.table === t) && !(t in NOT_COPIED));
    if (unknown.length > 0) throw new MigrateError(`the SQLite file has tables this migrate does not know (${unknown.join(', ')}): use the migrate of the Parley version that wrote it`);
    const target = await PostgresTarget.open(options.to);
    try {
      await checkClaim(target, source.id);
      // Every table's columns matched before anything is written: a table this version does not know stops the run untouched.
      const columns = new Map<TableSpec, PgColumn[]>();
      for (const spec of TABLES) columns.set(spec, await matchColumns(source, target, spec.table));
      await checkAppendOnly(source, target);
      const docs = await copyDocuments(source, target, log);
      if (docs.diverged.length > 0) {
        throw new MigrateError(
          `${docs.diverged.length} documents in PostgreSQL hold writes the SQLite install does not (${docs.diverged.slice(0, 3).join(', ')}${docs.diverged.length > 3 ? ', …' : ''}): ` +
            'a PostgreSQL server has used this database (since it was migrated to, or it holds another install), and migrating again would undo what it wrote. Nothing was written',
        );
      }
      log(`documents: ${docs.created} written, ${docs.merged} merged, ${docs.checksums.size - docs.created - docs.merged} already equal`);
      const counts: CountCheck[] = [];
      for (const spec of TABLES) {
        const copy = await copyTable(source, target, spec, columns.get(spec) ?? []);
        counts.push({ table: spec.table, sqlite: source.count(spec.table), postgres: 0, ...copy });
        log(`${spec.table}: ${copy.written} rows written, ${copy.deleted} deleted`);
      }
      await target.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [MIGRATED_FROM, source.id]);
      counts.push({ table: 'documents', sqlite: docs.checksums.size, postgres: 0, written: docs.created + docs.merged, deleted: 0 });
      return await verify(source, target, options, counts, docs.checksums, log);
    } finally {
      await target.close();
    }
  } finally {
    source.close();
  }
}

/**
 * Refuses a database that another install was migrated into: the mirror of
 * the tables would replace that install's rows. The mark is written once a
 * run has copied every table.
 */
async function checkClaim(target: PostgresTarget, sourceId: string): Promise<void> {
  const { rows } = await target.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [MIGRATED_FROM]);
  const claimed = rows[0]?.value;
  if (claimed !== undefined && claimed !== sourceId) {
    throw new MigrateError(
      `this PostgreSQL database was migrated from another install (data dir id ${claimed}; this data dir's is ${sourceId}): migrating two installs into one database would replace the first. Use an empty database or schema`,
    );
  }
}

/** Counts both sides afresh and compares every document's checksum with its SQLite one. */
async function verify(
  source: SqliteSource,
  target: PostgresTarget,
  options: MigrateOptions,
  counts: CountCheck[],
  checksums: ReadonlyMap<string, string>,
  log: (line: string) => void,
): Promise<MigrateSummary> {
  const problems: string[] = [];
  const targetNames = await targetDocumentNames(target);
  for (const count of counts) {
    count.postgres = count.table === 'documents' ? targetNames.length : await target.count(count.table);
    if (count.postgres !== count.sqlite) problems.push(`${count.table}: ${count.sqlite} in SQLite, ${count.postgres} in PostgreSQL`);
  }
  const mismatched = targetNames.filter((name) => !checksums.has(name));
  const names = [...checksums.keys()];
  for (let at = 0; at < names.length; at += DOC_BATCH) {
    const batch = names.slice(at, at + DOC_BATCH);
    const stored = await loadTargetDocs(target, batch);
    for (const name of batch) {
      const parts = stored.get(name);
      const doc = parts === undefined ? null : loadParts(parts);
      if (doc === null || docChecksum(doc) !== checksums.get(name)) mismatched.push(name);
      doc?.destroy();
    }
  }
  if (mismatched.length > 0) problems.push(`documents: ${mismatched.length} differ between SQLite and PostgreSQL (${mismatched.slice(0, 5).join(', ')}${mismatched.length > 5 ? ', …' : ''})`);
  log(`verified: ${counts.length} counts, ${names.length} document checksums`);

  const dir = join(options.from, 'media');
  let files = 0;
  let missing = 0;
  for (const [hash] of source.rows('media', ['hash'])) {
    if (existsSync(mediaFile(dir, String(hash)))) files++;
    else missing++;
  }
  return {
    ok: problems.length === 0,
    from: options.from,
    to: redact(options.to),
    counts,
    documents: { checked: names.length, mismatched },
    media: { dir, files, missing },
    problems,
  };
}
