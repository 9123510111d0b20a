/** The cluster's settings: their defaults, their bounds, and Redis refused without PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const dirs: string[] = [];
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-settings-'));
  dirs.push(dir);
  return dir;
};

describe('the cluster settings', () => {
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('default to one process, a one-second sweep and heartbeat, and the parley: prefix', () => {
    const config = loadConfig({ PARLEY_DATA_DIR: dataDir() });
    expect([config.redisUrl, config.redisPrefix, config.clusterSweepMs, config.clusterHeartbeatMs]).toEqual([null, 'parley:', 1000, 1000]);
  });

  it('take a cluster on PostgreSQL and Redis with its own prefix and intervals', () => {
    const config = loadConfig({
      PARLEY_DATA_DIR: dataDir(),
      PARLEY_DATABASE_URL: 'postgres://parley@db.internal:5432/parley',
      PARLEY_REDIS_URL: 'redis://cache.internal:6379',
      PARLEY_REDIS_PREFIX: 'chat-eu:',
      PARLEY_CLUSTER_SWEEP_MS: '250',
      PARLEY_CLUSTER_HEARTBEAT_MS: '500',
    });
    expect([config.redisUrl, config.redisPrefix, config.clusterSweepMs, config.clusterHeartbeatMs]).toEqual(['redis://cache.internal:6379', 'chat-eu:', 250, 500]);
  });

  it('refuses intervals out of bounds, naming the setting', () => {
    expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir(), PARLEY_CLUSTER_SWEEP_MS: '0' })).toThrow(/PARLEY_CLUSTER_SWEEP_MS/);
    expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir(), PARLEY_CLUSTER_HEARTBEAT_MS: 'soon' })).toThrow(/PARLEY_CLUSTER_HEARTBEAT_MS/);
  });

  it('refuses Redis without PostgreSQL: a cluster keeps its data in PostgreSQL', () => {
    expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir(), PARLEY_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/PARLEY_DATABASE_URL/);
  });
});
