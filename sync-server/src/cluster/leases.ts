/**
 * Who leads each document in a cluster: a PostgreSQL advisory lock per
 * document, held on one connection of this process that does nothing else.
 * PostgreSQL lets go of every lock of a connection that ends, so a process
 * that dies (SIGKILL included: its socket closes) loses its leases at once,
 * and another process takes them on its next sweep. Advisory locks are
 * database-wide: a lock's key is the document's path in this schema (an
 * install per schema, or a test per schema, leads its own documents).
 *
 * Taking a lease also raises the document's fencing token (`doc_leaders`):
 * every commit of a leader carries its token and fails whole when the
 * document has had a newer leader since (the `fence` write of
 * storage/stores/docs.ts). So a process that lost its lock without knowing
 * it (its lock connection cut, itself still running) can never commit over
 * its successor: the lock says who may lead, the token makes it so.
 */
import pg from 'pg';
import type { Log } from '../log.ts';

export interface Lease {
  token: number;
}

export class DocLeases {
  /** The documents this process leads, by path. */
  private readonly held = new Map<string, Lease>();
  /** One query at a time on the lock connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly node: string,
    private readonly log: Log,
    /** The lock connection ended: every lease is gone. */
    private readonly lost: (paths: string[]) => void,
  ) {
    client.on('error', (err: unknown) => this.log.warn({ err }, 'cluster: the lease connection failed'));
    client.on('end', () => {
      if (this.closed) return;
      const paths = [...this.held.keys()];
      this.held.clear();
      this.log.error({ leases: paths.length }, 'cluster: the lease connection ended; every document led here is dropped');
      this.lost(paths);
    });
  }

  static async open(url: string, node: string, log: Log, lost: (paths: string[]) => void): Promise<DocLeases> {
    const client = new pg.Client({ connectionString: url, application_name: `parley-leases-${node}` });
    await client.connect();
    return new DocLeases(client, node, log, lost);
  }

  leading(path: string): Lease | undefined {
    return this.held.get(path);
  }

  /** Takes the lease of `path` if nobody holds it: its new fencing token, or null. */
  tryLead(path: string): Promise<Lease | null> {
    return this.serial(async () => {
      const current = this.held.get(path);
      if (current !== undefined) return current;
      const [token] = (await this.lead([path])).values();
      if (token === undefined) return null;
      const lease = { token };
      this.held.set(path, lease);
      return lease;
    });
  }

  /**
   * Of `paths` (documents led elsewhere), takes every lease nobody holds any
   * more (its leader died or let go), in one round trip, and reads who leads
   * the others now: the leases taken, and the leader of each other path.
   */
  sweep(paths: readonly string[]): Promise<{ taken: Map<string, Lease>; leaders: Map<string, string | null> }> {
    return this.serial(async () => {
      const taken = new Map<string, Lease>();
      const leaders = new Map<string, string | null>();
      const free = paths.filter((p) => !this.held.has(p));
      if (free.length === 0) return { taken, leaders };
      for (const [path, token] of await this.lead(free)) {
        const lease = { token };
        this.held.set(path, lease);
        taken.set(path, lease);
      }
      const others = free.filter((p) => !taken.has(p));
      if (others.length > 0) {
        const current = await this.client.query<{ doc: string; node: string }>('SELECT doc, node FROM doc_leaders WHERE doc = ANY($1::text[])', [others]);
        for (const path of others) leaders.set(path, null);
        for (const { doc, node } of current.rows) leaders.set(doc, node);
      }
      return { taken, leaders };
    });
  }

  /** The process leading `path` now, as the last leader to take it wrote (null: never led). */
  leaderOf(path: string): Promise<string | null> {
    return this.serial(async () => {
      const result = await this.client.query<{ node: string }>('SELECT node FROM doc_leaders WHERE doc = $1', [path]);
      return result.rows[0]?.node ?? null;
    });
  }

  /** Lets go of the lease of `path` (after its last write settled). */
  release(path: string): Promise<void> {
    if (!this.held.delete(path)) return Promise.resolve();
    return this.serial(async () => {
      await this.client.query("SELECT pg_advisory_unlock(hashtextextended(current_schema() || ':' || $1, 0))", [path]);
    }).catch((err: unknown) => this.log.warn({ err, doc: path }, 'cluster: a lease was not let go (it goes with the connection)'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    await this.queue.catch(() => undefined);
    // Ending the connection lets go of every lock it holds.
    await this.client.end().catch(() => undefined);
  }

  /**
   * Takes the lock of each of `paths` nobody holds, and writes this process
   * down as its leader with a raised token, in one statement: no turn of this
   * process's event loop (busy, under load, for tens of milliseconds) falls
   * between the lock and the row, when another process would find the lock
   * taken and doc_leaders naming nobody, or the leader before. The tokens of
   * the leases taken, by path. Should the row not be written, the locks the
   * statement took are let go (a session's advisory lock outlives a failed
   * statement).
   */
  private async lead(paths: readonly string[]): Promise<Map<string, number>> {
    try {
      const result = await this.client.query<{ doc: string; token: string }>(
        `WITH locked AS MATERIALIZED (
           SELECT p FROM unnest($1::text[]) WITH ORDINALITY AS t(p, n)
           WHERE pg_try_advisory_lock(hashtextextended(current_schema() || ':' || p, 0))
           ORDER BY n
         )
         INSERT INTO doc_leaders (doc, token, node) SELECT p, 1, $2 FROM locked
         ON CONFLICT (doc) DO UPDATE SET token = doc_leaders.token + 1, node = EXCLUDED.node
         RETURNING doc, token`,
        [paths, this.node],
      );
      return new Map(result.rows.map((row) => [row.doc, Number(row.token)]));
    } catch (error) {
      await this.client
        .query("SELECT pg_advisory_unlock(hashtextextended(current_schema() || ':' || p, 0)) FROM unnest($1::text[]) AS t(p)", [paths.filter((p) => !this.held.has(p))])
        .catch(() => undefined);
      throw error;
    }
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
