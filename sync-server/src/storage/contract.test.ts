/** The storage contract: every backend passes the same suite. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLog } from '../log.ts';
import { GroupCommit } from './group-commit.ts';
import { StorageHealth } from './health.ts';
import { MemoryStorage } from './memory.ts';
import { SqliteStorage } from './sqlite.ts';
import type { SessionRecord, Storage, UserRecord } from './storage.ts';

const backends: [string, () => { storage: Storage; cleanup: () => void }][] = [
  ['memory', () => ({ storage: new MemoryStorage(), cleanup: () => undefined })],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
      return { storage: new SqliteStorage(join(dir, 'parley.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const alice: UserRecord = { id: 'alice', passwordHash: 'h', nickname: 'Alice', avatar: null, role: 'user', created: 1 };

describe.each(backends)('%s storage', (_name, make) => {
  let current: { storage: Storage; cleanup: () => void } | undefined;
  const open = (): Storage => {
    current = make();
    return current.storage;
  };
  afterEach(async () => {
    await current?.storage.close();
    current?.cleanup();
  });

  it('loads an unknown document as empty', async () => {
    expect(await open().loadDoc('inbox/x')).toEqual({ snapshot: null, updates: [], lastId: 0 });
  });

  it('appends updates in order and returns their row ids', async () => {
    const s = open();
    const ids = await s.commit([
      { kind: 'update', doc: 'd', data: bytes(1) },
      { kind: 'last-seq', conversation: 'a/b', seq: 3 },
      { kind: 'update', doc: 'd', data: bytes(2) },
    ]);
    expect(ids[1]).toBe(0);
    expect(ids[2]).toBeGreaterThan(ids[0] ?? Infinity);
    const doc = await s.loadDoc('d');
    expect(doc.updates.map((u) => [...u.data])).toEqual([[1], [2]]);
    expect(doc.lastId).toBe(ids[2]);
    expect(await s.logLength('d')).toBe(2);
    expect(await s.loadDoc('other')).toEqual({ snapshot: null, updates: [], lastId: 0 });
  });

  it('compacts the log into a snapshot and keeps later rows', async () => {
    const s = open();
    const [first = 0] = await s.commit([{ kind: 'update', doc: 'd', data: bytes(1) }]);
    await s.commit([{ kind: 'update', doc: 'd', data: bytes(2) }]);
    await s.compact('d', bytes(9), first);
    const doc = await s.loadDoc('d');
    expect([...(doc.snapshot ?? [])]).toEqual([9]);
    expect(doc.updates.map((u) => [...u.data])).toEqual([[2]]);
    expect(await s.logLength('d')).toBe(1);
    // An older snapshot never replaces a newer one.
    await s.compact('d', bytes(8), first - 1);
    expect([...((await s.loadDoc('d')).snapshot ?? [])]).toEqual([9]);
  });

  it('erases: the snapshots replace every covered log row of each document, later rows stay', async () => {
    const s = open();
    const [d1 = 0] = await s.commit([{ kind: 'update', doc: 'd', data: bytes(1) }]);
    const [e1 = 0] = await s.commit([{ kind: 'update', doc: 'e', data: bytes(2) }]);
    await s.commit([{ kind: 'update', doc: 'd', data: bytes(3) }]);
    await s.erase([
      { doc: 'd', snapshot: bytes(9), upto: d1 },
      { doc: 'e', snapshot: bytes(8), upto: e1 },
    ]);
    const d = await s.loadDoc('d');
    expect([...(d.snapshot ?? [])]).toEqual([9]);
    expect(d.updates.map((u) => [...u.data])).toEqual([[3]]);
    expect(await s.loadDoc('e')).toEqual({ snapshot: bytes(8), updates: [], lastId: e1 });
  });

  it('lists the segments of a conversation with their counts and sequence ranges, oldest first', async () => {
    const s = open();
    expect(await s.segmentsOf('a/b')).toEqual([]);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '2024-02' },
      { kind: 'message', conversation: 'a/b', seq: 2, id: 'm2', from: 'b', ts: 2, segment: '2024-02' },
      { kind: 'message', conversation: 'a/c', seq: 1, id: 'm3', from: 'a', ts: 3, segment: '2024-02' },
    ]);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 3, id: 'm4', from: 'a', ts: 0, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 4, id: 'm5', from: 'a', ts: 4, segment: '2024-02' },
    ]);
    expect(await s.segmentsOf('a/b')).toEqual([
      { segment: '2024-01', count: 1, firstSeq: 3, lastSeq: 3 },
      { segment: '2024-02', count: 3, firstSeq: 1, lastSeq: 4 },
    ]);
    expect(await s.segmentsOf('a/c')).toEqual([{ segment: '2024-02', count: 1, firstSeq: 1, lastSeq: 1 }]);
  });

  it('keeps the last sequence and counts messages per sender', async () => {
    const s = open();
    expect(await s.lastSeq('a/b')).toBe(0);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 2, id: 'm2', from: 'b', ts: 2, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 3, id: 'm3', from: 'b', ts: 3, segment: '2024-01' },
      { kind: 'last-seq', conversation: 'a/b', seq: 3 },
    ]);
    expect(await s.lastSeq('a/b')).toBe(3);
    expect(await s.countMessagesAfter('a/b', 'b', 1)).toBe(2);
    expect(await s.countMessagesAfter('a/b', 'b', 2)).toBe(1);
    expect(await s.countMessagesAfter('a/b', 'a', 1)).toBe(0);
    expect(await s.peersOf('a')).toEqual(['b']);
    expect(await s.peersOf('b')).toEqual(['a']);
  });

  it('creates a user once and updates its profile', async () => {
    const s = open();
    expect(await s.createUser(alice)).toBe(true);
    expect(await s.createUser({ ...alice, nickname: 'Other' })).toBe(false);
    expect(await s.getUser('alice')).toEqual(alice);
    expect(await s.updateUser('alice', { nickname: 'Al' })).toEqual({ ...alice, nickname: 'Al' });
    expect(await s.updateUser('nobody', { nickname: 'x' })).toBeUndefined();
    expect(await s.getUser('nobody')).toBeUndefined();
  });

  it('keeps user ids unique regardless of case, each keeping its own case', async () => {
    const s = open();
    expect(await s.createUser({ ...alice, id: 'Alice' })).toBe(true);
    expect(await s.createUser(alice)).toBe(false);
    expect(await s.createUser({ ...alice, id: 'ALICE' })).toBe(false);
    expect(await s.getUser('alice')).toBeUndefined();
    expect(await s.getUser('Alice')).toMatchObject({ id: 'Alice' });
    expect(await s.findUser('aLiCe')).toMatchObject({ id: 'Alice' });
    expect(await s.findUser('bob')).toBeUndefined();
  });

  it('keeps relations one-way, lists requests sent to a user, and deletes them', async () => {
    const storage = open();
    await storage.changeRelations([
      { op: 'put', row: { owner: 'alice', kind: 'friend', other: 'bob', note: null, created: 1 } },
      { op: 'put', row: { owner: 'carol', kind: 'request', other: 'alice', note: 'hi', created: 2 } },
      { op: 'put', row: { owner: 'alice', kind: 'block', other: 'dave', note: null, created: 3 } },
    ]);
    const rows = (await storage.relationsOf('alice')).map((r) => `${r.owner}:${r.kind}:${r.other}:${r.note ?? ''}`).sort();
    expect(rows).toEqual(['alice:block:dave:', 'alice:friend:bob:', 'carol:request:alice:hi']);
    expect(await storage.relationsOf('bob')).toEqual([]);
    await storage.changeRelations([{ op: 'delete', owner: 'alice', kind: 'friend', other: 'bob' }]);
    expect((await storage.relationsOf('alice')).map((r) => r.kind).sort()).toEqual(['block', 'request']);
  });

  it('stores settings as JSON by key', async () => {
    const storage = open();
    expect(await storage.settings()).toEqual({});
    await storage.putSetting('messaging', 'friends');
    await storage.putSetting('blockKeepsFriendship', true);
    expect(await storage.settings()).toEqual({ messaging: 'friends', blockKeepsFriendship: true });
  });

  it('pages a conversation\'s indexed messages by time and sequence', async () => {
    const storage = open();
    await storage.commit([1, 2, 3].map((seq) => ({ kind: 'message', conversation: 'a/b', seq, id: `m${seq}`, from: 'a', ts: seq * 10, segment: '2026-01' }) as const));
    expect((await storage.messagesOf('a/b', { from: 0, to: 100, afterSeq: 1, limit: 1 })).map((m) => m.id)).toEqual(['m2']);
    expect((await storage.messagesOf('a/b', { from: 15, to: 25, afterSeq: 0, limit: 10 }))[0]).toEqual({ seq: 2, id: 'm2', from: 'a', ts: 20, segment: '2026-01' });
  });

  it('keeps one push subscription per device, and an endpoint for its newest owner only', async () => {
    const s = open();
    const sub = { user: 'alice', device: 'phone', endpoint: 'https://push.example/1', p256dh: 'k', auth: 'a', previews: true, updated: 1 };
    await s.putPushSubscription(sub);
    await s.putPushSubscription({ ...sub, device: 'laptop', endpoint: 'https://push.example/2' });
    await s.putPushSubscription({ ...sub, previews: false, updated: 2 });
    expect((await s.pushSubscriptionsOf('alice')).sort((x, y) => x.device.localeCompare(y.device))).toEqual([
      { ...sub, device: 'laptop', endpoint: 'https://push.example/2' },
      { ...sub, previews: false, updated: 2 },
    ]);
    // Bob signs in on alice's laptop: the browser's endpoint is his now.
    await s.putPushSubscription({ ...sub, user: 'bob', device: 'laptop', endpoint: 'https://push.example/2' });
    expect((await s.pushSubscriptionsOf('alice')).map((x) => x.device)).toEqual(['phone']);
    expect((await s.pushSubscriptionsOf('bob')).map((x) => x.endpoint)).toEqual(['https://push.example/2']);
    // A stale endpoint (the device subscribed again meanwhile) deletes nothing.
    expect(await s.deletePushSubscription('alice', 'phone', 'https://push.example/old')).toBe(false);
    expect(await s.deletePushSubscription('alice', 'phone', sub.endpoint)).toBe(true);
    expect(await s.deletePushSubscription('bob', 'laptop')).toBe(true);
    expect(await s.deletePushSubscription('bob', 'laptop')).toBe(false);
    expect(await s.pushSubscriptionsOf('alice')).toEqual([]);
  });

  it('keeps sessions by id and user, rotates a refresh hash only from its current value, and deletes them', async () => {
    const s = open();
    const phone: SessionRecord = { id: 's1', user: 'alice', device: 'phone', label: 'Firefox on Android', created: 10, lastUsed: 10, refreshHash: 'h1' };
    const laptop: SessionRecord = { ...phone, id: 's2', device: 'laptop', label: 'Chrome on Linux', created: 20, lastUsed: 20, refreshHash: 'h2' };
    await s.putSession(phone);
    await s.putSession(laptop);
    await s.putSession({ ...phone, id: 's3', user: 'bob' });
    expect(await s.getSession('s1')).toEqual(phone);
    expect((await s.sessionsOf('alice')).map((x) => x.id)).toEqual(['s1', 's2']);
    expect((await s.sessions()).map((x) => x.id).sort()).toEqual(['s1', 's2', 's3']);

    expect(await s.rotateSession('s1', 'h1', 'h1b', 30)).toBe(true);
    // The old hash no longer rotates it: a refresh token works once.
    expect(await s.rotateSession('s1', 'h1', 'h1c', 40)).toBe(false);
    expect(await s.getSession('s1')).toEqual({ ...phone, refreshHash: 'h1b', lastUsed: 30 });
    await s.touchSession('s1', 50);
    await s.touchSession('s1', 45);
    expect((await s.getSession('s1'))?.lastUsed).toBe(50);

    await s.deleteSessions(['s1', 's3']);
    expect(await s.getSession('s1')).toBeUndefined();
    expect((await s.sessions()).map((x) => x.id)).toEqual(['s2']);
    expect(await s.rotateSession('s1', 'h1b', 'x', 60)).toBe(false);
  });

  it('changes a password hash with the profile patch', async () => {
    const s = open();
    await s.createUser(alice);
    expect((await s.updateUser('alice', { passwordHash: 'h2' }))?.passwordHash).toBe('h2');
    expect((await s.getUser('alice'))?.nickname).toBe('Alice');
  });

  it('queues pushes in order, puts one off and drops sent ones', async () => {
    const s = open();
    const push = { user: 'bob', device: 'phone', payload: '{"v":1}', urgency: 'high' as const, topic: 't', created: 5, attempts: 0, due: 5 };
    const ids = await s.enqueuePushes([push, { ...push, device: 'laptop', urgency: 'normal' }]);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
    await s.retryPush(ids[0] ?? 0, 1, 99);
    expect(await s.queuedPushes()).toEqual([
      { ...push, id: ids[0], attempts: 1, due: 99 },
      { ...push, id: ids[1], device: 'laptop', urgency: 'normal' },
    ]);
    await s.dropPushes([ids[0] ?? 0]);
    expect((await s.queuedPushes()).map((p) => p.id)).toEqual([ids[1]]);
    expect(await s.enqueuePushes([])).toEqual([]);
  });

  it('keeps an upload in progress until it is deleted', async () => {
    const s = open();
    const upload = { id: 'u1', user: 'alice', device: 'd', kind: 'image' as const, peer: 'bob', size: 10, mime: 'image/png', sha256: 'f'.repeat(64), name: null, received: 0, created: 5, written: 5 };
    await s.putUpload(upload);
    await s.putUpload({ ...upload, id: 'u2', name: 'x.png', created: 6, written: 6 });
    await s.setUploadReceived('u1', 7, 9);
    expect(await s.getUpload('u1')).toEqual({ ...upload, received: 7, written: 9 });
    expect((await s.uploads()).map((u) => [u.id, u.name])).toEqual([['u1', null], ['u2', 'x.png']]);
    await s.deleteUpload('u2');
    expect(await s.getUpload('u2')).toBeUndefined();
    expect((await s.uploads()).map((u) => u.id)).toEqual(['u1']);
  });

  it('records media once by hash, and its uploaders, deleting the upload', async () => {
    const s = open();
    const hash = 'a'.repeat(64);
    await s.putUpload({ id: 'u1', user: 'bob', device: 'd', kind: 'file', peer: 'carol', size: 3, mime: 'text/plain', sha256: hash, name: 'b.txt', received: 3, created: 1, written: 1 });
    const media = { hash, size: 3, mime: 'text/plain', kind: 'file' as const, name: 'a.txt', created: 1 };
    await s.addMedia(media, 'alice', null);
    await s.addMedia({ ...media, name: 'b.txt', created: 2 }, 'bob', 'u1');
    expect(await s.getMedia(hash)).toEqual(media);
    expect(await s.getUpload('u1')).toBeUndefined();
    expect(await s.mayReadMedia(hash, 'alice')).toBe(true);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(false);
    expect(await s.getMedia('b'.repeat(64))).toBeUndefined();
  });

  it("lists one user's uploads in progress, oldest first", async () => {
    const s = open();
    const upload = { id: 'u1', user: 'alice', device: 'd', kind: 'file' as const, peer: 'bob', size: 10, mime: 'text/plain', sha256: 'f'.repeat(64), name: null, received: 0, created: 5, written: 5 };
    await s.putUpload({ ...upload, id: 'u2', created: 7, written: 7 });
    await s.putUpload(upload);
    await s.putUpload({ ...upload, id: 'u3', user: 'bob', peer: 'alice' });
    expect((await s.uploadsOf('alice')).map((u) => u.id)).toEqual(['u1', 'u2']);
    expect(await s.uploadsOf('carol')).toEqual([]);
  });

  it("counts the bytes of each hash a user uploaded once, against every uploader's quota", async () => {
    const s = open();
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    expect(await s.uploadedBytes('alice')).toBe(0);
    await s.addMedia({ hash: a, size: 100, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.addMedia({ hash: a, size: 100, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'alice', null);
    await s.addMedia({ hash: b, size: 30, mime: 'image/png', kind: 'image', name: null, created: 3 }, 'alice', null);
    await s.addMedia({ hash: b, size: 30, mime: 'image/png', kind: 'image', name: null, created: 4 }, 'bob', null);
    expect(await s.uploadedBytes('alice')).toBe(130);
    expect(await s.uploadedBytes('bob')).toBe(30);
    expect(await s.hasUploaded(a, 'alice')).toBe(true);
    expect(await s.hasUploaded(a, 'bob')).toBe(false);
    // Reading it through a message is not uploading it.
    await s.commit([{ kind: 'media-ref', hash: a, conversation: 'alice/carol', from: 'alice' }]);
    expect(await s.mayReadMedia(a, 'carol')).toBe(true);
    expect(await s.hasUploaded(a, 'carol')).toBe(false);
    expect(await s.uploadedBytes('carol')).toBe(0);
  });

  it('lets both members read media a message references, when its sender may', async () => {
    const s = open();
    const hash = 'c'.repeat(64);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    // Bob forwards it: he may read it now, so carol may too.
    await s.commit([{ kind: 'media-ref', hash, conversation: 'bob/carol', from: 'bob' }]);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
    // Naming a hash one may not read grants nothing.
    await s.commit([{ kind: 'media-ref', hash, conversation: 'dave/eve', from: 'dave' }]);
    expect(await s.mayReadMedia(hash, 'eve')).toBe(false);
    expect(await s.mayReadMedia(hash, 'dave')).toBe(false);
  });

  it('lets a reference that outran its upload through once the sender uploads', async () => {
    const s = open();
    const hash = 'd'.repeat(64);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' }]);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'bob/carol', from: 'bob' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(false);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    // Only alice's own references went through: bob's waits for bob.
    expect(await s.mayReadMedia(hash, 'carol')).toBe(false);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'bob', null);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
  });

  it("drops a conversation's reference to media (and one waiting for its upload), leaving the uploader and other conversations", async () => {
    const s = open();
    const hash = 'e'.repeat(64);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.commit([
      { kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' },
      { kind: 'media-ref', hash, conversation: 'alice/carol', from: 'alice' },
      { kind: 'media-ref', hash, conversation: 'dave/eve', from: 'dave' },
    ]);
    await s.commit([{ kind: 'media-unref', hash, conversation: 'alice/bob' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(false);
    expect(await s.mayReadMedia(hash, 'alice')).toBe(true);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
    // Dave's reference waited for his upload; it is dropped, so his upload later grants eve nothing.
    await s.commit([{ kind: 'media-unref', hash, conversation: 'dave/eve' }]);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'dave', null);
    expect(await s.mayReadMedia(hash, 'eve')).toBe(false);
  });

  it('probes with a write transaction that leaves the documents as they were', async () => {
    const s = open();
    await s.commit([{ kind: 'update', doc: 'p', data: bytes(1) }]);
    await s.probe();
    await s.probe();
    expect((await s.loadDoc('p')).updates.map((u) => [...u.data])).toEqual([[1]]);
  });

  it('group-commits writes queued in one tick into one transaction', async () => {
    const s = open();
    let commits = 0;
    const commit = s.commit.bind(s);
    s.commit = (writes) => {
      commits++;
      return commit(writes);
    };
    const group = new GroupCommit(s, new StorageHealth(s, { retryMs: 1000, resumeFreeBytes: 0 }, createLog('silent')));
    const results = await Promise.all([1, 2, 3].map((n) => group.write([{ kind: 'update', doc: 'g', data: bytes(n) }])));
    expect(commits).toBe(1);
    expect(results.map((r) => r.length)).toEqual([1, 1, 1]);
    expect((await s.loadDoc('g')).updates.map((u) => [...u.data])).toEqual([[1], [2], [3]]);
    await group.idle();
  });
});

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
