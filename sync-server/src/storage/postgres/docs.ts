/**
 * Documents and their log in PostgreSQL: `updates` (the log), `snapshots`
 * (deflated, `codec` 1, as SQLite stores them) and `doc_leaders` (each
 * document's authority and fencing token).
 *
 * Several processes write one database, and a BIGSERIAL id is drawn when a
 * row is inserted, not when its transaction commits: a row may become
 * visible after one with a greater id. So `loadDoc` returns every log row
 * still stored, not only those above the snapshot's `upto`, and `compact`
 * deletes only rows that exist when it runs: a row the snapshot could not
 * have seen is never hidden (a Yjs update applied twice changes nothing).
 * And the rows of one document are inserted under a transaction lock of
 * that document (`appendLog`), so they become visible in id order: a
 * compaction built from a read that saw rows up to id N (a shared inbox,
 * compacted from storage in a cluster: sync/registry.ts) can never delete a
 * row below N that it did not see.
 */
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type pg from 'pg';
import { FencedError, type DocLeader, type DocSnapshot, type DocStore, type StoredDoc, type Write } from '../stores/docs.ts';
import { ascending, transaction } from './db.ts';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);
const CODEC_DEFLATE = 1;

/**
 * A store that owns some kinds of `Write` (the message index, media
 * references): the docs store hands it each commit's writes and the
 * commit's connection, inside the transaction.
 */
export interface PgCommitPart {
  record(client: pg.PoolClient, writes: readonly Write[]): Promise<void>;
}

type FenceWrite = Extract<Write, { kind: 'fence' }>;
type UpdateWrite = Extract<Write, { kind: 'update' }>;

/**
 * One snapshot and its log rows in one statement (one statement sees one
 * committed state): the snapshot row first (its id NULL), then the log by id.
 */
const LOAD = `
SELECT NULL::bigint AS id, data, upto, codec FROM snapshots WHERE doc = $1
UNION ALL
SELECT id, data, NULL, NULL FROM updates WHERE doc = $1
ORDER BY id NULLS FIRST`;

/** Replaces the snapshot unless the stored one is newer, and only then deletes the log rows it covers. */
const COMPACT = `
WITH put AS (
  INSERT INTO snapshots (doc, data, upto, codec) VALUES ($1, $2, $3, $4)
  ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto, codec = excluded.codec WHERE snapshots.upto <= excluded.upto
  RETURNING 1
)
DELETE FROM updates WHERE doc = $1 AND id <= $3 AND EXISTS (SELECT 1 FROM put)`;

export class PgDocs implements DocStore {
  /**
   * `parts`: the stores that own the writes other than `update` and `fence`.
   * `commits`: the connections of the group commit and its probe, apart from
   * `pool`, so that a burst of reads (a thousand sockets reconnecting, each
   * loading its document) never makes a commit wait for a connection, or
   * time out waiting and put the storage in fault.
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly parts: readonly PgCommitPart[],
    private readonly commits: pg.Pool = pool,
  ) {}

  async loadDoc(doc: string): Promise<StoredDoc> {
    const { rows } = await this.pool.query<{ id: number | null; data: Buffer; upto: number | null; codec: number | null }>(LOAD, [doc]);
    let snapshot: Uint8Array | null = null;
    let lastId = 0;
    const updates: StoredDoc['updates'] = [];
    for (const row of rows) {
      if (row.id === null) {
        snapshot = new Uint8Array(row.codec === CODEC_DEFLATE ? await inflate(row.data) : row.data);
        lastId = Math.max(lastId, row.upto ?? 0);
      } else {
        updates.push({ id: row.id, data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) });
        lastId = Math.max(lastId, row.id);
      }
    }
    return { snapshot, updates, lastId };
  }

  /**
   * One transaction: the fences are checked first (their rows held FOR SHARE
   * until COMMIT, so no `lead` can slip in before it), then the log rows go
   * in as one INSERT, then each part's share. Resolves after COMMIT.
   */
  commit(writes: readonly Write[]): Promise<number[]> {
    return transaction(this.commits, async (client) => {
      const fences = writes.filter((w): w is FenceWrite => w.kind === 'fence');
      if (fences.length > 0) await checkFences(client, fences);
      const updates = writes.filter((w): w is UpdateWrite => w.kind === 'update');
      const ids = updates.length === 0 ? [] : await appendLog(client, updates);
      for (const part of this.parts) await part.record(client, writes);
      let next = 0;
      return writes.map((w) => (w.kind === 'update' ? (ids[next++] ?? 0) : 0));
    });
  }

  async probe(): Promise<void> {
    await this.commits.query('INSERT INTO probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at', [Date.now()]);
  }

  async compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void> {
    await this.pool.query(COMPACT, [doc, await deflate(snapshot), upto, CODEC_DEFLATE]);
  }

  /**
   * Compacts every document in one transaction. The deleted rows leave the
   * tables at once; PostgreSQL reclaims their space when (auto)vacuum
   * passes, not at COMMIT (docs/architecture.md, "Recall erases").
   */
  async erase(docs: readonly DocSnapshot[]): Promise<void> {
    const deflated = await Promise.all(docs.map((d) => deflate(d.snapshot)));
    await transaction(this.pool, async (client) => {
      for (const [i, d] of docs.entries()) await client.query(COMPACT, [d.doc, deflated[i], d.upto, CODEC_DEFLATE]);
    });
  }

  async logLength(doc: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM updates WHERE doc = $1', [doc]);
    return rows[0]?.n ?? 0;
  }

  /** Waits for commits holding the row FOR SHARE: once it returns, none of them can still commit with the old token. */
  async lead(doc: string, node: string): Promise<number> {
    const { rows } = await this.pool.query<{ token: number }>(
      'INSERT INTO doc_leaders (doc, token, node) VALUES ($1, 1, $2) ON CONFLICT (doc) DO UPDATE SET token = doc_leaders.token + 1, node = excluded.node RETURNING token',
      [doc, node],
    );
    const token = rows[0]?.token;
    if (token === undefined) throw new Error('lead: the upsert returned no token');
    return token;
  }

  async leaderOf(doc: string): Promise<DocLeader | null> {
    const { rows } = await this.pool.query<DocLeader>('SELECT node, token FROM doc_leaders WHERE doc = $1', [doc]);
    return rows[0] ?? null;
  }
}

/** Throws a FencedError for the first fence whose document is led with another token (or by no one). */
async function checkFences(client: pg.PoolClient, fences: readonly FenceWrite[]): Promise<void> {
  const docs = [...new Set(fences.map((f) => f.doc))].sort();
  const { rows } = await client.query<{ doc: string; token: number }>('SELECT doc, token FROM doc_leaders WHERE doc = ANY($1::text[]) ORDER BY doc FOR SHARE', [docs]);
  const tokens = new Map(rows.map((r) => [r.doc, r.token]));
  for (const f of fences) if (tokens.get(f.doc) !== f.token) throw new FencedError(f.doc, f.token);
}

/** One INSERT for every log row of the commit; their ids in the order of `updates`. */
async function appendLog(client: pg.PoolClient, updates: readonly UpdateWrite[]): Promise<number[]> {
  // In one order (sorted) in every transaction, so two commits never wait on each other in a circle. Seed 1:
  // not the keys of the leases (cluster/leases.ts, seed 0), which the leader's own process holds.
  const docs = [...new Set(updates.map((u) => u.doc))].sort();
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || d, 1)) FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n) ORDER BY n", [docs]);
  const { rows } = await client.query<{ id: number }>(
    'INSERT INTO updates (doc, data) SELECT * FROM unnest($1::text[], $2::bytea[]) RETURNING id',
    [updates.map((u) => u.doc), updates.map((u) => u.data)],
  );
  return ascending(rows);
}
