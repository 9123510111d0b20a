/**
 * The PostgreSQL connection pool the stores share, and the one way they run
 * a transaction. Ids, times and counts are BIGINT: pg hands those back as
 * strings (they may exceed 2^53); every one Parley stores is far below, so
 * this pool's connections read them as numbers (its own type parsers, not
 * pg's global ones, which other code in the process may rely on).
 */
import pg from 'pg';

const INT8_OID = 20;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary' ? Number : (pg.types.getTypeParser(oid, format) as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PoolOptions {
  /** postgres://user@host:port/database (PARLEY_DATABASE_URL). */
  url: string;
  /** Connections at most (PARLEY_DATABASE_POOL). */
  max: number;
  /** Runs the pool's connections with this schema first on their search_path (tests: a fresh schema each). */
  schema?: string;
  /** The connections' application_name, as pg_stat_activity shows them; default `parley`. */
  name?: string;
  /** An idle connection failed (the server restarted, the network dropped): the pool drops it and makes a new one when needed. */
  onError?: (error: Error) => void;
}

export function openPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    types,
    application_name: options.name ?? 'parley',
    // A lost server fails a request in seconds instead of queueing it for ever.
    connectionTimeoutMillis: 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${pg.escapeIdentifier(options.schema)}` }),
  });
  // Without a listener an idle connection's error would end the process.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/**
 * Runs `work` inside BEGIN … COMMIT on one connection and resolves after the
 * COMMIT (so after the write is durable); any failure rolls back and rejects.
 * A connection whose rollback failed is broken: it is destroyed, not reused.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollback: unknown) => {
      broken = rollback instanceof Error ? rollback : new Error(String(rollback));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Sorts row ids ascending: ids of one multi-row INSERT are drawn in the order of its rows. */
export function ascending(rows: readonly { id: number }[]): number[] {
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
