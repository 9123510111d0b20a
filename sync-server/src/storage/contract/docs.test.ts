/** The docs store's contract: documents, their log and snapshots, and the one commit path. */
import { expect, it } from 'vitest';
import { createLog } from '../../log.ts';
import { GroupCommit } from '../group-commit.ts';
import { StorageHealth } from '../health.ts';
import { FencedError } from '../storage.ts';
import { describeStore } from './backends.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describeStore('docs', (open, backend) => {
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

  it('hands out a greater token each time a document is led, and tells who leads it', async () => {
    const s = open();
    expect(await s.leaderOf('d')).toBeNull();
    const first = await s.lead('d', 'node-1');
    expect(await s.leaderOf('d')).toEqual({ node: 'node-1', token: first });
    const second = await s.lead('d', 'node-2');
    expect(second).toBeGreaterThan(first);
    expect(await s.leaderOf('d')).toEqual({ node: 'node-2', token: second });
    expect(await s.leaderOf('e')).toBeNull();
    expect(await s.lead('e', 'node-1')).toBeGreaterThan(0);
  });

  it('commits writes fenced with the current token', async () => {
    const s = open();
    const token = await s.lead('d', 'node-1');
    await s.commit([
      { kind: 'fence', doc: 'd', token },
      { kind: 'update', doc: 'd', data: bytes(1) },
      { kind: 'last-seq', conversation: 'a/b', seq: 1 },
    ]);
    expect((await s.loadDoc('d')).updates.map((u) => [...u.data])).toEqual([[1]]);
    expect(await s.lastSeq('a/b')).toBe(1);
  });

  if (backend.shared) {
    it('refuses a whole commit whose fence token is stale, and writes none of it', async () => {
      const s = open();
      const stale = await s.lead('d', 'node-1');
      await s.lead('d', 'node-2');
      const commit = s.commit([
        { kind: 'update', doc: 'e', data: bytes(1) },
        { kind: 'fence', doc: 'd', token: stale },
        { kind: 'update', doc: 'd', data: bytes(2) },
        { kind: 'last-seq', conversation: 'a/b', seq: 1 },
        { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '1970-01' },
      ]);
      await expect(commit).rejects.toBeInstanceOf(FencedError);
      await expect(commit).rejects.toMatchObject({ doc: 'd', token: stale });
      expect(await s.loadDoc('d')).toEqual({ snapshot: null, updates: [], lastId: 0 });
      expect(await s.loadDoc('e')).toEqual({ snapshot: null, updates: [], lastId: 0 });
      expect(await s.lastSeq('a/b')).toBe(0);
      expect(await s.segmentsOf('a/b')).toEqual([]);
      // A document no one ever led has no current token either.
      await expect(s.commit([{ kind: 'fence', doc: 'never-led', token: 1 }])).rejects.toBeInstanceOf(FencedError);
    });

    it('fails a group commit refused by a fence with the FencedError, and the storage stays in no fault', async () => {
      const s = open();
      const health = new StorageHealth(s, { retryMs: 1000, resumeFreeBytes: 0 }, createLog('silent'));
      const group = new GroupCommit(s, health);
      const stale = await s.lead('d', 'node-1');
      const token = await s.lead('d', 'node-2');
      await expect(group.write([{ kind: 'fence', doc: 'd', token: stale }, { kind: 'update', doc: 'd', data: bytes(1) }])).rejects.toBeInstanceOf(FencedError);
      expect(health.fault).toBeNull();
      await group.write([{ kind: 'fence', doc: 'd', token }, { kind: 'update', doc: 'd', data: bytes(2) }]);
      expect((await s.loadDoc('d')).updates.map((u) => [...u.data])).toEqual([[2]]);
      await group.idle();
    });
  } else {
    it('takes a commit whatever its fence says: one process is the only writer', async () => {
      const s = open();
      const stale = await s.lead('d', 'node-1');
      await s.lead('d', 'node-2');
      await s.commit([
        { kind: 'fence', doc: 'd', token: stale },
        { kind: 'update', doc: 'd', data: bytes(2) },
      ]);
      expect((await s.loadDoc('d')).updates.map((u) => [...u.data])).toEqual([[2]]);
    });
  }
});
