/** What the SQLite backend keeps in its files: erasure leaves no bytes behind, and files written by older versions open. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from '../sqlite.ts';
import type { UserRecord } from '../storage.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const alice: UserRecord = { id: 'alice', passwordHash: 'h', nickname: 'Alice', avatar: null, role: 'user', created: 1 };

describe('sqlite storage files', () => {
  it('erases: no byte of an erased log row is left in the file or its write-ahead log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      const s = new SqliteStorage(file);
      const secret = new TextEncoder().encode('xylophone-secret-word');
      const [id = 0] = await s.commit([{ kind: 'update', doc: 'd', data: secret }]);
      const contents = (): string => ['', '-wal', '-shm'].map((suffix) => (existsSync(file + suffix) ? readFileSync(file + suffix).toString('latin1') : '')).join('');
      expect(contents()).toContain('xylophone-secret-word');
      await s.erase([{ doc: 'd', snapshot: bytes(1), upto: id }]);
      expect(contents()).not.toContain('xylophone-secret-word');
      expect(await s.loadDoc('d')).toEqual({ snapshot: bytes(1), updates: [], lastId: id });
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the segments table of a file written before it from the message index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      const s = new SqliteStorage(file);
      await s.commit([
        { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '2024-01' },
        { kind: 'message', conversation: 'a/b', seq: 2, id: 'm2', from: 'a', ts: 2, segment: '2024-02' },
      ]);
      await s.close();
      const old = new Database(file);
      old.exec('DROP TABLE segments');
      old.close();
      const reopened = new SqliteStorage(file);
      expect(await reopened.segmentsOf('a/b')).toEqual([
        { segment: '2024-01', count: 1, firstSeq: 1, lastSeq: 1 },
        { segment: '2024-02', count: 1, firstSeq: 2, lastSeq: 2 },
      ]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file whose uploads predate their last-write time, taking it as their creation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      const old = new Database(file);
      old.exec(
        'CREATE TABLE uploads (id TEXT PRIMARY KEY, user TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, peer TEXT NOT NULL, size INTEGER NOT NULL, ' +
          'mime TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT, received INTEGER NOT NULL, created INTEGER NOT NULL)',
      );
      old.prepare("INSERT INTO uploads VALUES ('u1', 'alice', 'd', 'file', 'bob', 10, 'text/plain', ?, NULL, 4, 123)").run('f'.repeat(64));
      old.close();
      const s = new SqliteStorage(file);
      expect(await s.getUpload('u1')).toMatchObject({ id: 'u1', received: 4, created: 123, written: 123 });
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file whose push queue predates claims: its pushes are free for the first claim', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      const old = new Database(file);
      old.exec(
        'CREATE TABLE push_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, device TEXT NOT NULL, payload TEXT NOT NULL, ' +
          'urgency TEXT NOT NULL, topic TEXT NOT NULL, created INTEGER NOT NULL, attempts INTEGER NOT NULL, due INTEGER NOT NULL)',
      );
      old.prepare("INSERT INTO push_queue (user, device, payload, urgency, topic, created, attempts, due) VALUES ('bob', 'phone', '{}', 'high', 't', 1, 0, 1)").run();
      old.close();
      const s = new SqliteStorage(file);
      expect(await s.claimPushes('a', 2, 100, 10)).toEqual([{ id: 1, user: 'bob', device: 'phone', payload: '{}', urgency: 'high', topic: 't', created: 1, attempts: 0, due: 1 }]);
      expect(await s.claimPushes('b', 2, 100, 10)).toEqual([]);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file whose user ids clash in case, lists the clashes and still refuses new ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      await new SqliteStorage(file).close();
      const old = new Database(file);
      old.exec('DROP INDEX users_id_nocase');
      const insert = old.prepare("INSERT INTO users (id, nickname, created) VALUES (?, ?, 1)");
      for (const id of ['bob', 'Bob', 'carol']) insert.run(id, id);
      old.close();
      const s = new SqliteStorage(file);
      expect(s.userIdClashes()).toEqual([expect.arrayContaining(['bob', 'Bob'])]);
      expect(await s.findUser('Bob')).toMatchObject({ id: 'Bob' });
      expect(await s.findUser('bob')).toMatchObject({ id: 'bob' });
      expect(await s.findUser('BOB')).toMatchObject({ id: expect.stringMatching(/^bob$/i) as unknown });
      expect(await s.createUser({ ...alice, id: 'CAROL' })).toBe(false);
      expect(await s.createUser({ ...alice, id: 'dave' })).toBe(true);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file written before snapshots were deflated, and gives back its free pages on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const file = join(dir, 'parley.db');
      const old = new Database(file);
      old.exec('CREATE TABLE snapshots (doc TEXT PRIMARY KEY, data BLOB NOT NULL, upto INTEGER NOT NULL)');
      old.prepare('INSERT INTO snapshots (doc, data, upto) VALUES (?, ?, ?)').run('d', Buffer.from([1, 2, 3]), 5);
      old.close();
      const s = new SqliteStorage(file);
      expect(await s.loadDoc('d')).toEqual({ snapshot: bytes(1, 2, 3), updates: [], lastId: 5 });
      await s.compact('d', bytes(4, 5), 6);
      expect((await s.loadDoc('d')).snapshot).toEqual(bytes(4, 5));
      await s.close();

      // A new file vacuums incrementally: compacted log rows leave no free pages behind a clean close.
      const fresh = new SqliteStorage(join(dir, 'fresh.db'));
      const big = new Uint8Array(4000).fill(7);
      const ids = await fresh.commit(Array.from({ length: 200 }, () => ({ kind: 'update' as const, doc: 'e', data: big })));
      await fresh.compact('e', bytes(1), Math.max(...ids));
      await fresh.close();
      const check = new Database(join(dir, 'fresh.db'), { readonly: true });
      expect(check.pragma('freelist_count', { simple: true })).toBe(0);
      expect(check.pragma('page_count', { simple: true })).toBeLessThan(50);
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
