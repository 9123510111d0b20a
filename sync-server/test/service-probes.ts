/**
 * PostgreSQL and Redis for tests, without the test runner: whether each is
 * reachable, and a fresh schema of one's own. Shared by the unit tests'
 * services.ts (vitest) and the cluster e2e (Playwright).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

const PROBE_TIMEOUT_MS = 2000;

export const DEFAULT_TEST_DATABASE_URL = 'postgres://root@127.0.0.1:5432/test';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Runs one statement on a connection of its own. */
async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  /** Its random name. */
  schema: string;
  /** `url` whose connections work in this schema (search_path set through the URL's `options`): what a server under test is given. */
  url: string;
  /** Drops it with everything in it. */
  drop: () => Promise<void>;
}

/** A new, empty schema with a random name on the PostgreSQL at `url`. */
export async function freshSchema(url: string): Promise<TestSchema> {
  const schema = `parley_test_${randomBytes(8).toString('hex')}`;
  await adminQuery(url, `CREATE SCHEMA ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: scoped.toString(), drop: () => adminQuery(url, `DROP SCHEMA ${schema} CASCADE`) };
}

/** null when a query answers; else why not. */
export async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // A connection that breaks after the probe must not end the run.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** null when a PING answers; else why not. */
export async function probeRedis(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: PROBE_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

/** Deletes every key of Redis at `url` that starts with `prefix` (a test's own). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    const found = await client.keys(`${prefix}*`);
    if (found.length > 0) await client.del(...found);
  } finally {
    client.disconnect();
  }
}
