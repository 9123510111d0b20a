import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLog } from '../log.ts';
import { DiskWatch } from './disk.ts';

describe('the free-disk reserve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-disk-'));
  const watches: DiskWatch[] = [];
  const start = async (reserve: number): Promise<DiskWatch> => {
    const watch = await DiskWatch.start(dir, reserve, createLog('silent'));
    watches.push(watch);
    return watch;
  };
  afterEach(() => {
    for (const w of watches.splice(0)) w.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fs = statfsSync(tmpdir());
  const wholeDisk = fs.blocks * fs.bsize;

  it('is full from the first reading when the reserve is more than the disk holds', async () => {
    const watch = await start(wholeDisk + 1);
    expect(watch.full()).toBe(true);
    expect(await watch.room()).toBe(false);
  });

  it('has room while a write leaves the reserve free, and not for a write that would eat into it', async () => {
    const watch = await start(1);
    expect(watch.full()).toBe(false);
    expect(await watch.room(1024)).toBe(true);
    expect(await watch.room(wholeDisk)).toBe(false);
  });

  it('never refuses with a reserve of 0', async () => {
    const watch = await start(0);
    expect(watch.full()).toBe(false);
    expect(await watch.room(wholeDisk * 2)).toBe(true);
  });
});
