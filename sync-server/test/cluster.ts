/**
 * A cluster for the tests: N Parley processes on one PostgreSQL schema and
 * one Redis key prefix of their own (made fresh, removed after), sharing one
 * data dir (media, generated secrets) as docs/deploy.md says a cluster does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type ServerProcess } from './process.ts';
import { deleteKeys, freshSchema } from './service-probes.ts';

export interface TestCluster {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  dataDir: string;
  env: Record<string, string>;
  processes: ServerProcess[];
  adminKey(): string;
  /** Starts one more process of the cluster. */
  add(): Promise<ServerProcess>;
  /** Drops the schema and the keys (after the processes stopped). */
  remove(): Promise<void>;
}

export async function startCluster(postgres: string, redis: string, size: number, env: Record<string, string> = {}): Promise<TestCluster> {
  const schema = await freshSchema(postgres);
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  // Its own, removed by `remove`: the cluster may outlive one test's cleanups.
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  const databaseUrl = schema.url;
  const clusterEnv = {
    PARLEY_DATABASE_URL: databaseUrl,
    PARLEY_REDIS_URL: redis,
    PARLEY_REDIS_PREFIX: prefix,
    PARLEY_CLUSTER_SWEEP_MS: '100',
    PARLEY_CLUSTER_HEARTBEAT_MS: '200',
    PARLEY_COMMIT_WINDOW_US: '0',
    ...env,
  };
  const cluster: TestCluster = {
    databaseUrl,
    redisUrl: redis,
    prefix,
    dataDir,
    env: clusterEnv,
    processes: [],
    adminKey: () => readFileSync(join(dataDir, 'admin-key'), 'utf8').trim(),
    add: async () => {
      const p = await startProcess(dataDir, { env: clusterEnv });
      cluster.processes.push(p);
      return p;
    },
    remove: async () => {
      await schema.drop();
      rmSync(dataDir, { recursive: true, force: true });
      await deleteKeys(redis, prefix);
    },
  };
  // The first one alone: it makes the schema and the data dir's secrets, which the others then read.
  await cluster.add();
  await Promise.all(Array.from({ length: size - 1 }, () => cluster.add()));
  return cluster;
}
