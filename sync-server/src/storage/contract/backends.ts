/**
 * The backends every store's contract suite runs against: memory, SQLite on
 * this thread (the stores of sqlite/ called directly), and SQLite as the
 * server runs it (reads here, writes through the worker thread).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe } from 'vitest';
import { MemoryStorage } from '../memory.ts';
import { openDatabase } from '../sqlite-db.ts';
import { inProcessStorage } from '../sqlite/stores.ts';
import { SqliteStorage } from '../sqlite.ts';
import type { Storage } from '../storage.ts';

type Opened = { storage: Storage; cleanup: () => void };

/** A fresh SQLite file in a directory of its own, and the storage `open` makes of it. */
function sqliteFile(open: (file: string) => Storage): Opened {
  const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
  return { storage: open(join(dir, 'parley.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const BACKENDS: [string, () => Opened][] = [
  ['memory', () => ({ storage: new MemoryStorage(), cleanup: () => undefined })],
  ['sqlite', () => sqliteFile((file) => inProcessStorage(openDatabase(file)))],
  ['sqlite with its worker', () => sqliteFile((file) => new SqliteStorage(file))],
];

/** Runs `suite` against every backend; its `open` gives each test a fresh storage, closed and removed after it. */
export function describeStore(store: string, suite: (open: () => Storage) => void): void {
  describe.each(BACKENDS)(`the ${store} store, %s`, (_name, make) => {
    let current: Opened | undefined;
    afterEach(async () => {
      await current?.storage.close();
      current?.cleanup();
      current = undefined;
    });
    suite(() => {
      current = make();
      return current.storage;
    });
  });
}
