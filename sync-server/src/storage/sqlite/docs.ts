/**
 * Documents and their log in SQLite: `updates` (the log) and `snapshots`.
 * Snapshots are stored deflated (`codec` 1; 0 is a plain Yjs update): a
 * conversation's encoded state is mostly JSON keys and text and shrinks to a
 * fraction; the log rows, short lived, stay plain. One process writes the
 * file: `fence` writes are ignored, and `doc_leaders` only counts tokens.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { CommitPart, DocLeader, DocSnapshot, DocStore, StoredDoc, Write } from '../stores/docs.ts';
import { decodeWrites } from '../write-codec.ts';
import type { Sync } from './sync.ts';

const CODEC_DEFLATE = 1;

export class SqliteDocs implements Sync<DocStore> {
  private readonly stmt;
  private readonly commitTx: (writes: readonly Write[]) => number[];
  private readonly compactTx: (doc: string, snapshot: Uint8Array, upto: number) => void;

  /** `parts`: the stores that own the writes other than `update`; each records its share inside the commit's transaction. */
  constructor(
    private readonly db: Database.Database,
    parts: readonly CommitPart[],
  ) {
    const s = (this.stmt = {
      snapshot: db.prepare<[string], { data: Buffer; upto: number; codec: number }>('SELECT data, upto, codec FROM snapshots WHERE doc = ?'),
      snapshotUpto: db.prepare<[string], { upto: number }>('SELECT upto FROM snapshots WHERE doc = ?'),
      log: db.prepare<[string, number], { id: number; data: Buffer }>('SELECT id, data FROM updates WHERE doc = ? AND id > ? ORDER BY id'),
      logLength: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM updates WHERE doc = ?'),
      append: db.prepare<[string, Uint8Array]>('INSERT INTO updates (doc, data) VALUES (?, ?)'),
      probe: db.prepare<[number]>('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
      putSnapshot: db.prepare<[string, Uint8Array, number, number]>(
        'INSERT INTO snapshots (doc, data, upto, codec) VALUES (?, ?, ?, ?) ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto, codec = excluded.codec',
      ),
      dropLog: db.prepare<[string, number]>('DELETE FROM updates WHERE doc = ? AND id <= ?'),
      lead: db.prepare<[string, string], { token: number }>(
        'INSERT INTO doc_leaders (doc, token, node) VALUES (?, 1, ?) ON CONFLICT (doc) DO UPDATE SET token = token + 1, node = excluded.node RETURNING token',
      ),
      leaderOf: db.prepare<[string], DocLeader>('SELECT node, token FROM doc_leaders WHERE doc = ?'),
    });
    this.commitTx = db.transaction((writes: readonly Write[]) => {
      const ids = writes.map((w) => (w.kind === 'update' ? Number(s.append.run(w.doc, w.data).lastInsertRowid) : 0));
      for (const part of parts) part.record(writes);
      return ids;
    });
    this.compactTx = db.transaction((doc: string, snapshot: Uint8Array, upto: number) => {
      const current = s.snapshotUpto.get(doc);
      if (current !== undefined && current.upto > upto) return;
      s.putSnapshot.run(doc, deflateRawSync(snapshot), upto, CODEC_DEFLATE);
      s.dropLog.run(doc, upto);
    });
  }

  loadDoc(doc: string): StoredDoc {
    // One read transaction, so the snapshot and the log are from the same commit.
    return this.db.transaction(() => {
      const snap = this.stmt.snapshot.get(doc);
      const upto = snap?.upto ?? 0;
      const updates = this.stmt.log.all(doc, upto).map((r) => ({ id: r.id, data: new Uint8Array(r.data) }));
      const lastId = updates.at(-1)?.id ?? upto;
      const snapshot = snap === undefined ? null : new Uint8Array(snap.codec === CODEC_DEFLATE ? inflateRawSync(snap.data) : snap.data);
      return { snapshot, updates, lastId };
    })();
  }

  commit(writes: readonly Write[]): number[] {
    return this.commitTx(writes);
  }

  /**
   * `commit` as the worker takes it: the batch as encodeWrites made it (its
   * buffer transferred, not cloned), the ids as one typed array (copied as
   * one block, not as an array of numbers).
   */
  commitEncoded(writes: Uint8Array): Float64Array {
    return Float64Array.from(this.commitTx(decodeWrites(writes)));
  }

  /** A write transaction of one row (storage/health.ts): whether the log and the file can take a commit again. */
  probe(): void {
    this.stmt.probe.run(Date.now());
  }

  compact(doc: string, snapshot: Uint8Array, upto: number): void {
    this.compactTx(doc, snapshot, upto);
  }

  /**
   * Compacts the documents in one transaction (freed space is zeroed:
   * secure_delete is on), then checkpoints the write-ahead log into the file
   * and truncates it, so the deleted rows survive neither in the file nor in
   * the log. A reader in the middle of a read holds the checkpoint back for
   * a moment: it is retried briefly.
   */
  erase(docs: readonly DocSnapshot[]): void {
    this.db.transaction(() => {
      for (const d of docs) this.compactTx(d.doc, d.snapshot, d.upto);
    })();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let attempt = 0; attempt < 50; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (result?.busy === 0) return;
      Atomics.wait(pause, 0, 0, 10);
    }
    throw new Error('erase: the write-ahead log could not be checkpointed (a reader held it for 500 ms)');
  }

  logLength(doc: string): number {
    return this.stmt.logLength.get(doc)?.n ?? 0;
  }

  lead(doc: string, node: string): number {
    const row = this.stmt.lead.get(doc, node);
    if (row === undefined) throw new Error('lead: the upsert returned no token');
    return row.token;
  }

  leaderOf(doc: string): DocLeader | null {
    return this.stmt.leaderOf.get(doc) ?? null;
  }
}
