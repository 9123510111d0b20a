/**
 * The outside services the cluster suites run against (PostgreSQL, Redis):
 * whether they are reachable, probed once per test run. Vitest runs `setup`
 * once, before any test file (vitest.config.ts's globalSetup); it prints one
 * line per service it cannot reach, saying how to start it and that its
 * suites did not run, and hands the result to the test files, which read it
 * with `postgresUrl()` / `redisUrl()` (null: leave those suites out). With
 * PARLEY_REQUIRE_SERVICES=1 (CI sets it) a service that is not reachable
 * fails the run instead.
 *
 * PARLEY_TEST_DATABASE_URL (default postgres://root@127.0.0.1:5432/test) and
 * PARLEY_TEST_REDIS_URL (default redis://127.0.0.1:6379) say where they are.
 * Each test works in its own schema (`freshSchema`) or key prefix there
 * (never the whole database), so runs and other users of the same server do
 * not collide.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    redisUrl: string | null;
  }
}

const PROBE_TIMEOUT_MS = 2000;

const DEFAULT_TEST_DATABASE_URL = 'postgres://root@127.0.0.1:5432/test';
const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** The PostgreSQL the tests may use, or null when it was not reachable at the start of the run. */
export function postgresUrl(): string | null {
  return inject('postgresUrl');
}

/** The Redis the tests may use, or null when it was not reachable at the start of the run. */
export function redisUrl(): string | null {
  return inject('redisUrl');
}

/** Whether a missing service fails the run (PARLEY_REQUIRE_SERVICES=1, set by CI) instead of leaving its suites out. */
export function requireServices(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PARLEY_REQUIRE_SERVICES === '1';
}

export interface Services {
  postgresUrl: string | null;
  redisUrl: string | null;
  /** One line per service not reachable: that its suites did not run, and how to start it. */
  missing: string[];
}

/** Probes each service `env` names (or its default); rejects when one is missing and `env` requires them all. */
export async function checkServices(env: NodeJS.ProcessEnv): Promise<Services> {
  const database = nonEmpty(env.PARLEY_TEST_DATABASE_URL) ?? DEFAULT_TEST_DATABASE_URL;
  const redis = nonEmpty(env.PARLEY_TEST_REDIS_URL) ?? DEFAULT_TEST_REDIS_URL;
  const [pgError, redisError] = await Promise.all([probePostgres(database), probeRedis(redis)]);
  const missing: string[] = [];
  if (pgError !== null) {
    missing.push(
      `PostgreSQL is not reachable at ${database} (${pgError}): the PostgreSQL suites did not run. ` +
        'Start it with `apt-get install postgresql && service postgresql start` (or .ci/run), or point PARLEY_TEST_DATABASE_URL at one.',
    );
  }
  if (redisError !== null) {
    missing.push(
      `Redis is not reachable at ${redis} (${redisError}): the Redis suites did not run. ` +
        'Start it with `apt-get install redis-server && service redis-server start` (or .ci/run), or point PARLEY_TEST_REDIS_URL at one.',
    );
  }
  if (missing.length > 0 && requireServices(env)) throw new Error(`PARLEY_REQUIRE_SERVICES=1: ${missing.join(' ')}`);
  return { postgresUrl: pgError === null ? database : null, redisUrl: redisError === null ? redis : null, missing };
}

/** Vitest's globalSetup: probes each service once, prints a line for each one missing, and provides its URL (or null) to every test file. */
export async function setup(project: TestProject): Promise<void> {
  const services = await checkServices(process.env);
  for (const line of services.missing) console.warn(line);
  project.provide('postgresUrl', services.postgresUrl);
  project.provide('redisUrl', services.redisUrl);
}

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

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

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
