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
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, probePostgres, probeRedis } from './service-probes.ts';

export { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, freshSchema, probePostgres, probeRedis, type TestSchema } from './service-probes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    redisUrl: string | null;
  }
}

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
        'Start it with `apt-get install postgresql && service postgresql start` (or `.ci/services`), or point PARLEY_TEST_DATABASE_URL at one.',
    );
  }
  if (redisError !== null) {
    missing.push(
      `Redis is not reachable at ${redis} (${redisError}): the Redis suites did not run. ` +
        'Start it with `apt-get install redis-server && service redis-server start` (or `.ci/services`), or point PARLEY_TEST_REDIS_URL at one.',
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

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

