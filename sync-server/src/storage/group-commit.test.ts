/**
 * The commit window on a real SQLite storage (worker thread, fsync): under a
 * burst, a batch is taken at most once per window; a lone write after a
 * quiet spell is committed at once, without waiting for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLog } from '../log.ts';
import { GroupCommit } from './group-commit.ts';
import { StorageHealth } from './health.ts';
import { SqliteStorage } from './sqlite.ts';
import type { Write } from './storage.ts';

const opened: SqliteStorage[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-group-commit-'));
  dirs.push(dir);
  return dir;
}

async function groupCommit(windowUs: number): Promise<GroupCommit> {
  const dir = tempDir();
  const storage = await SqliteStorage.open(join(dir, 'parley.db'));
  opened.push(storage);
  return new GroupCommit(storage, new StorageHealth(storage, { retryMs: 1000, resumeFreeBytes: 0 }, createLog('silent')), windowUs);
}

const update = (n: number): Write[] => [{ kind: 'update', doc: 'prefs/alice', data: new Uint8Array([n % 256]) }];
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the commit window', () => {
  // Long enough that the whole burst fits in one window on a loaded machine.
  const WINDOW_US = 2_000_000;

  it('commits a burst of writes, each in its own event-loop turn, in one commit per window', async () => {
    const commit = await groupCommit(WINDOW_US);
    const started = performance.now();
    const acked: Promise<number[]>[] = [];
    for (let i = 0; i < 100; i++) {
      acked.push(commit.write(update(i)));
      await nextTurn();
    }
    // The burst was sent within one window: its first write went at once, all the others wait for the next batch.
    expect(performance.now() - started).toBeLessThan(WINDOW_US / 1000);
    const ids = await Promise.all(acked);
    expect(commit.counts).toEqual({ commits: 2, writes: 100 });
    // Each write is acked with its own row, in order.
    const rows = ids.map(([id]) => id ?? 0);
    expect(rows).toEqual([...rows].sort((x, y) => x - y));
    expect(new Set(rows).size).toBe(100);
  });

  it('commits a lone write at once, without waiting for the window', async () => {
    const commit = await groupCommit(WINDOW_US);
    const started = performance.now();
    await commit.write(update(1));
    expect(performance.now() - started).toBeLessThan(WINDOW_US / 1000 / 2);
    expect(commit.counts).toEqual({ commits: 1, writes: 1 });
  });

  it('defaults to 1 ms (PARLEY_COMMIT_WINDOW_US), and refuses a negative one', () => {
    expect(loadConfig({ PARLEY_DATA_DIR: tempDir() }).commitWindowUs).toBe(1000);
    expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_COMMIT_WINDOW_US: '-1' })).toThrow(/PARLEY_COMMIT_WINDOW_US/);
  });
});
