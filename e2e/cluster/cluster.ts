/**
 * A Parley cluster for the specs, as docs/deploy.md sets one up: three
 * compiled server processes on one PostgreSQL (a fresh schema) and one Redis
 * (a key prefix of their own), sharing one data dir, behind HAProxy running
 * the shipped deploy/haproxy.cfg. The spec sees one server: the proxy's URL.
 *
 * PostgreSQL and Redis are found as the unit tests find them
 * (PARLEY_TEST_DATABASE_URL, PARLEY_TEST_REDIS_URL); when either does not
 * answer, `startCluster` says so in one line (ServicesMissing), which the
 * fixture turns into a skip, or a failure under PARLEY_REQUIRE_SERVICES=1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, deleteKeys, freshSchema, probePostgres, probeRedis } from '../../sync-server/test/service-probes.ts';
import { type ParleyServer, startServer } from '../server.ts';
import { Proxy } from './proxy.ts';

/** How many processes the cluster runs. */
const PROCESSES = 3;

export class ServicesMissing extends Error {
  override readonly name = 'ServicesMissing';
}

const setting = (name: string, fallback: string): string => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
};

export async function startCluster(extraEnv: Readonly<Record<string, string>> = {}): Promise<ParleyServer> {
  const database = setting('PARLEY_TEST_DATABASE_URL', DEFAULT_TEST_DATABASE_URL);
  const redis = setting('PARLEY_TEST_REDIS_URL', DEFAULT_TEST_REDIS_URL);
  const [pgError, redisError] = await Promise.all([probePostgres(database), probeRedis(redis)]);
  if (pgError !== null || redisError !== null) {
    throw new ServicesMissing(
      `the cluster specs need PostgreSQL (${database}: ${pgError ?? 'ok'}) and Redis (${redis}: ${redisError ?? 'ok'}): start them (.ci/services does) to run them`,
    );
  }
  const schema = await freshSchema(database);
  const prefix = `e2e-${randomBytes(6).toString('hex')}:`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-e2e-cluster-'));
  const env = { ...extraEnv, PARLEY_DATABASE_URL: schema.url, PARLEY_REDIS_URL: redis, PARLEY_REDIS_PREFIX: prefix };
  const servers: ParleyServer[] = [];
  let proxy: Proxy | null = null;
  const dispose = async (): Promise<void> => {
    await proxy?.stop();
    await Promise.all(servers.map((s) => s.dispose()));
    await schema.drop().catch(() => undefined);
    await deleteKeys(redis, prefix);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // The first alone: it migrates the schema and writes the data dir's secrets, which the others read.
    servers.push(await startServer(env, { dataDir }));
    servers.push(...(await Promise.all(Array.from({ length: PROCESSES - 1 }, () => startServer(env, { dataDir })))));
    proxy = await Proxy.start(servers.map((s) => s.url), { checkInterval: '200ms', timeoutMs: 30_000 });
    const first = servers[0];
    if (first === undefined) throw new Error('no process started');
    return { url: proxy.url, port: proxy.port, dataDir, child: first.child, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
