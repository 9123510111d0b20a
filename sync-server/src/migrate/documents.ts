/**
 * The documents of `npm run migrate`. Each SQLite document (its snapshot and
 * log rows) is loaded into a Y.Doc as the server loads it, and written to
 * PostgreSQL as ONE row: a snapshot of its whole state
 * (`Y.encodeStateAsUpdate`), deflated as the server's compaction stores it,
 * claiming no log row (`upto` 0). Not the rows themselves, because:
 * - log row ids are the SQLite file's own; a snapshot's `upto` names them,
 *   and the same numbers mean other rows (or none) in PostgreSQL's sequence,
 *   where a stale `upto` would make the server keep a snapshot over newer
 *   compactions;
 * - a loaded document is garbage-collected: deleted content in log rows not
 *   yet compacted is not carried over;
 * - one row per document is what the checksum compares anyway.
 *
 * A document PostgreSQL already has (a second run) is merged: what SQLite
 * holds beyond it is appended as one log row (Yjs merges are idempotent, so
 * nothing is written when it holds everything). Those documents are compared
 * first, before anything is written: if PostgreSQL holds a document, or part
 * of one, that SQLite lacks, a server wrote it there since, and the run
 * stops with PostgreSQL untouched.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as Y from 'yjs';
import { docChecksum, loadParts, type DocParts } from './checksum.ts';
import type { SqliteSource } from './source.ts';
import type { PostgresTarget } from './target.ts';

/** Snapshot `codec` 1: deflate-raw, as both backends store compacted snapshots (storage/sqlite/docs.ts). */
const CODEC_DEFLATE = 1;

/** Documents per PostgreSQL transaction: a few round trips for many small documents, and memory for a few large ones. */
const BATCH = 100;

export interface DocumentsCopy {
  /** Each SQLite document's checksum, for the verification. */
  checksums: Map<string, string>;
  /** Documents written as a new snapshot. */
  created: number;
  /** Documents PostgreSQL had, with SQLite's changes appended. */
  merged: number;
  /** Documents PostgreSQL holds, or holds more of, than SQLite: when any, nothing was written. */
  diverged: string[];
}

export async function copyDocuments(source: SqliteSource, target: PostgresTarget, log: (line: string) => void): Promise<DocumentsCopy> {
  const names = source.documentNames();
  const known = new Set(names);
  const there = new Set(await targetDocumentNames(target));
  const result: DocumentsCopy = { checksums: new Map(), created: 0, merged: 0, diverged: [...there].filter((name) => !known.has(name)) };
  if (result.diverged.length > 0) return result;

  const toMerge: string[] = [];
  await inBatches(
    names.filter((name) => there.has(name)),
    async (batch) => {
      const stored = await loadTargetDocs(target, batch);
      for (const name of batch) {
        const merge = compare(source, name, stored.get(name));
        result.checksums.set(name, merge.checksum);
        if (merge.update === null) continue;
        if (merge.diverged) result.diverged.push(name);
        else toMerge.push(name);
      }
    },
    (done, of) => log(`documents already in PostgreSQL: ${done} of ${of} compared`),
  );
  if (result.diverged.length > 0) return result;

  await inBatches(
    [...names.filter((name) => !there.has(name)), ...toMerge],
    async (batch) => {
      const stored = await loadTargetDocs(target, batch);
      const writes = batch.map((name) => {
        const parts = stored.get(name);
        if (parts !== undefined) return { name, merge: compare(source, name, parts).update };
        const doc = loadParts(source.loadDoc(name));
        result.checksums.set(name, docChecksum(doc));
        const snapshot = deflateRawSync(Y.encodeStateAsUpdate(doc));
        doc.destroy();
        return { name, snapshot };
      });
      await target.transaction(async (client) => {
        for (const w of writes) {
          if ('snapshot' in w) await client.query('INSERT INTO snapshots (doc, data, upto, codec) VALUES ($1, $2, 0, $3)', [w.name, w.snapshot, CODEC_DEFLATE]);
          else if (w.merge !== null) await client.query('INSERT INTO updates (doc, data) VALUES ($1, $2)', [w.name, w.merge]);
        }
      });
      result.created += writes.filter((w) => 'snapshot' in w).length;
      result.merged += writes.filter((w) => 'merge' in w && w.merge !== null).length;
    },
    (done, of) => log(`documents: ${done} of ${of} written`),
  );
  return result;
}

/**
 * A SQLite document against PostgreSQL's copy: its checksum, and `update`,
 * what SQLite holds beyond the copy (null when the two are equal);
 * `diverged` when the copy holds something SQLite lacks.
 */
function compare(source: SqliteSource, name: string, parts: DocParts | undefined): { checksum: string; update: Uint8Array | null; diverged: boolean } {
  const doc = loadParts(source.loadDoc(name));
  const there = loadParts(parts ?? { snapshot: null, updates: [] });
  try {
    const checksum = docChecksum(doc);
    if (docChecksum(there) === checksum) return { checksum, update: null, diverged: false };
    const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(there));
    Y.applyUpdate(there, update);
    return { checksum, update, diverged: docChecksum(there) !== checksum };
  } finally {
    doc.destroy();
    there.destroy();
  }
}

/** Runs `work` on `names` in batches of BATCH, reporting progress after each. */
async function inBatches(names: readonly string[], work: (batch: string[]) => Promise<void>, progress: (done: number, of: number) => void): Promise<void> {
  for (let at = 0; at < names.length; at += BATCH) {
    await work(names.slice(at, at + BATCH));
    progress(Math.min(at + BATCH, names.length), names.length);
  }
}
/** The name of every document PostgreSQL holds, sorted. */
export async function targetDocumentNames(target: PostgresTarget): Promise<string[]> {
  const { rows } = await target.query<{ doc: string }>('SELECT doc FROM snapshots UNION SELECT doc FROM updates ORDER BY doc');
  return rows.map((r) => r.doc);
}

/**
 * The stored parts of the documents in `names` that PostgreSQL has: the
 * snapshot and every log row, in id order, as the PostgreSQL backend loads
 * a document (all rows, not only those after `upto`: ids of concurrent
 * writers may become visible out of order).
 */
export async function loadTargetDocs(target: PostgresTarget, names: readonly string[]): Promise<Map<string, DocParts>> {
  const found = new Map<string, { snapshot: Uint8Array | null; updates: { data: Uint8Array }[] }>();
  const entry = (doc: string): { snapshot: Uint8Array | null; updates: { data: Uint8Array }[] } => {
    let parts = found.get(doc);
    if (parts === undefined) found.set(doc, (parts = { snapshot: null, updates: [] }));
    return parts;
  };
  const snapshots = await target.query<{ doc: string; data: Buffer; codec: number }>('SELECT doc, data, codec FROM snapshots WHERE doc = ANY($1)', [names]);
  for (const row of snapshots.rows) entry(row.doc).snapshot = new Uint8Array(row.codec === CODEC_DEFLATE ? inflateRawSync(row.data) : row.data);
  const updates = await target.query<{ doc: string; data: Buffer }>('SELECT doc, data FROM updates WHERE doc = ANY($1) ORDER BY doc, id', [names]);
  for (const row of updates.rows) entry(row.doc).updates.push({ data: new Uint8Array(row.data) });
  return found;
}
