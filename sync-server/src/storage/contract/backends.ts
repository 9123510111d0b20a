/**
 * The backends every store's contract suite runs against: memory, SQLite on
 * this thread (the stores of sqlite/ called directly), SQLite as the server
 * runs it (reads here, writes through the worker thread), and PostgreSQL
 * when it is reachable (sync-server/test/services.ts), each test in a fresh
 * schema of its own, dropped after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { freshSchema, postgresUrl } from '../../../test/services.ts';
import { MemoryStorage } from '../memory.ts';
import { PostgresStorage } from '../postgres.ts';
import { openDatabase } from '../sqlite-db.ts';
import { inProcessStorage } from '../sqlite/stores.ts';
import { SqliteStorage } from '../sqlite.ts';
import type { Storage } from '../storage.ts';

type Opened = { storage: Storage; cleanup: () => void | Promise<void> };

/** A fresh SQLite file in a directory of its own, and the storage `open` makes of it. */
function sqliteFile(open: (file: string) => Storage): Opened {
  const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
  return { storage: open(join(dir, 'parley.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PostgresStorage (migrated) in a fresh schema. */
async function postgresSchema(url: string): Promise<Opened> {
  const { schema, drop } = await freshSchema(url);
  const storage = await PostgresStorage.open({ url, max: 4, schema });
  return { storage, cleanup: drop };
}

const pgUrl = postgresUrl();

/** A backend under test; `shared`: several processes may write it at once (it checks `fence` writes). */
export interface Backend {
  name: string;
  shared: boolean;
  make: () => Opened | Promise<Opened>;
}

export const BACKENDS: Backend[] = [
  { name: 'memory', shared: false, make: () => ({ storage: new MemoryStorage(), cleanup: () => undefined }) },
  { name: 'sqlite', shared: false, make: () => sqliteFile((file) => inProcessStorage(openDatabase(file))) },
  { name: 'sqlite with its worker', shared: false, make: () => sqliteFile((file) => new SqliteStorage(file)) },
  ...(pgUrl === null ? [] : [{ name: 'postgres', shared: true, make: () => postgresSchema(pgUrl) }]),
];

/** Runs `suite` against every backend; its `open` gives each test a fresh storage (opened before the test), closed and removed after it. */
export function describeStore(store: string, suite: (open: () => Storage, backend: Backend) => void): void {
  describe.each(BACKENDS)(`the ${store} store, $name`, (backend) => {
    const { make } = backend;
    let current: Opened | undefined;
    beforeEach(async () => {
      current = await make();
    });
    afterEach(async () => {
      await current?.storage.close();
      await current?.cleanup();
      current = undefined;
    });
    suite(() => {
      if (current === undefined) throw new Error('open() is for inside a test');
      return current.storage;
    }, backend);
  });
}
