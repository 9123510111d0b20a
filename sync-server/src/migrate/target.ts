/**
 * The PostgreSQL side of `npm run migrate`: a small pool on the URL given
 * (its schema is the first on the URL's search_path, as for the server),
 * brought to the newest schema by the PostgreSQL backend's own migrations
 * before anything is copied, so that the tables written are the ones the
 * server will read.
 */
import pg from 'pg';
import { transaction } from '../storage/postgres/db.ts';
import { migrate as migrateSchema } from '../storage/postgres/migrations.ts';
import { MigrateError } from './errors.ts';

export interface PgColumn {
  name: string;
  /** information_schema's data_type: 'bigint', 'text', 'boolean', 'bytea', … */
  type: string;
}

export class PostgresTarget {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresTarget> {
    // Two connections: one copies while the other is free for a count; nothing here needs more.
    // A host that does not answer fails the run in seconds instead of hanging it.
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
    // An idle connection's error (the server restarting) fails the next query instead of the process.
    pool.on('error', () => undefined);
    try {
      await migrateSchema(pool);
    } catch (error) {
      await pool.end();
      throw new MigrateError(`PostgreSQL at ${redact(url)} could not be prepared: ${(error as Error).message}`);
    }
    return new PostgresTarget(pool);
  }

  async columns(table: string): Promise<PgColumn[]> {
    const { rows } = await this.pool.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
      [table],
    );
    return rows.map((r) => ({ name: r.column_name, type: r.data_type }));
  }

  async count(table: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${table}"`);
    return Number(rows[0]?.n ?? 0);
  }

  query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, values);
  }

  /** Runs `work` in one transaction on one connection: all of it is written, or none. */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, work);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the --to URL)';
  }
}
