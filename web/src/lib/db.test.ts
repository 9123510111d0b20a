import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { storeAt } from './db.history.ts';

const PATH = 'c2c/alice/bob/2026-12';

describe('the store upgrade to one outbox', () => {
  it('moves every waiting message, action and extra into the outbox, kind-tagged, with its data and order', async () => {
    const old = storeAt(8);
    await old.open();
    const message = { id: 'm1', from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: 'hi' }], ts: 1 };
    await old.table('outbox').bulkPut([
      { id: 'm1', path: PATH, conv: 'alice/bob', peer: 'bob', message, state: 'pending', createdAt: 10 },
      { id: 'm2', path: PATH, conv: 'alice/bob', peer: 'bob', message: { ...message, id: 'm2' }, state: 'failed', code: 'text-too-long', createdAt: 40, uploads: 'done' },
    ]);
    const action = { msg: 'g1', from: 'alice', name: 'move', data: { cell: 4 }, ts: 2 };
    await old.table('actionOutbox').bulkPut([
      { key: 'g1|alice|move', path: PATH, msg: 'g1', action, state: 'pending', createdAt: 20 },
      { key: 'g1|alice|undo', path: PATH, msg: 'g1', action: { ...action, name: 'undo' }, state: 'failed', code: 'action-invalid', createdAt: 50 },
    ]);
    await old.table('extraOutbox').bulkPut([
      { key: 'reactions|m0|alice|👍', path: PATH, root: 'reactions', docKey: 'm0|alice|👍', msg: 'm0', value: { msg: 'm0', from: 'alice', emoji: '👍', ts: 3 }, state: 'pending', client: 7, clock: 12, createdAt: 30 },
      { key: 'recalls|m9', path: PATH, root: 'recalls', docKey: 'm9', msg: 'm9', value: { by: 'alice', ts: 4 }, state: 'pending', client: 7, clock: 13, createdAt: 5 },
    ]);
    old.close();

    const { db } = await import('./db.ts');
    const { entriesOf, pendingPaths, actionEntriesOf, messageEntriesOf } = await import('./sync/outbox.ts');
    await db.open();
    expect(db.tables.map((t) => t.name)).not.toContain('actionOutbox');
    expect(db.tables.map((t) => t.name)).not.toContain('extraOutbox');

    const entries = await entriesOf(PATH);
    expect(entries.map((e) => [e.kind, e.id, e.createdAt])).toEqual([
      ['extra', 'extra|recalls|m9', 5],
      ['message', 'm1', 10],
      ['action', 'action|g1|alice|move', 20],
      ['extra', 'extra|reactions|m0|alice|👍', 30],
      ['message', 'm2', 40],
      ['action', 'action|g1|alice|undo', 50],
    ]);
    expect(entries[1]).toEqual({ id: 'm1', kind: 'message', path: PATH, conv: 'alice/bob', peer: 'bob', message, state: 'pending', createdAt: 10 });
    expect(entries[4]).toMatchObject({ kind: 'message', state: 'failed', code: 'text-too-long', uploads: 'done' });
    expect(entries[2]).toEqual({ id: 'action|g1|alice|move', kind: 'action', key: 'g1|alice|move', path: PATH, msg: 'g1', action, state: 'pending', createdAt: 20 });
    expect(entries[5]).toMatchObject({ kind: 'action', state: 'failed', code: 'action-invalid' });
    expect(entries[3]).toEqual({
      id: 'extra|reactions|m0|alice|👍',
      kind: 'extra',
      key: 'reactions|m0|alice|👍',
      path: PATH,
      root: 'reactions',
      docKey: 'm0|alice|👍',
      msg: 'm0',
      value: { msg: 'm0', from: 'alice', emoji: '👍', ts: 3 },
      state: 'pending',
      client: 7,
      clock: 12,
      createdAt: 30,
    });
    expect(entries[0]).toMatchObject({ kind: 'extra', root: 'recalls', msg: 'm9', value: { by: 'alice', ts: 4 }, client: 7, clock: 13 });

    // The readers find them where they looked before.
    expect([...(await pendingPaths())]).toEqual([PATH]);
    expect((await actionEntriesOf('g1')).map((e) => e.key).sort()).toEqual(['g1|alice|move', 'g1|alice|undo']);
    expect((await messageEntriesOf('alice/bob')).map((e) => e.id).sort()).toEqual(['m1', 'm2']);
  });
});

describe('the store upgrade for message actions (version 10)', () => {
  it('keeps the messages and receipts a version 9 store holds, and adds the hidden, starred, pin and receipt-time tables', async () => {
    const old = storeAt(9);
    await old.open();
    const row = { id: 'm1', conv: 'alice/bob', peer: 'bob', from: 'alice', to: 'bob', body: [{ type: 'text', text: 'hi' }], text: 'hi', words: ['hi'], ts: 1, seq: 1, order: 1, segment: '2026-12', nickname: 'alice', type: 'text' };
    await old.table('messages').put(row);
    await old.table('receipts').put({ id: 'alice/bob|bob|read', conv: 'alice/bob', seq: 1 });
    old.close();

    const { db } = await import('./db.ts');
    await db.open();
    expect(db.verno).toBe(10);
    expect(await db.messages.get('m1')).toEqual(row);
    expect(await db.receipts.get('alice/bob|bob|read')).toEqual({ id: 'alice/bob|bob|read', conv: 'alice/bob', seq: 1 });
    await db.hidden.put({ msg: 'm1', peer: 'bob', ts: 2 });
    await db.stars.put({ msg: 'm1', peer: 'bob', ts: 3 });
    await db.messagePins.put({ key: 'alice/bob|m1|bob', conv: 'alice/bob', msg: 'm1', from: 'bob', ts: 4 });
    await db.receiptTimes.bulkPut([
      { id: 'alice/bob|bob|read|1', key: 'alice/bob|bob|read', seq: 1, ts: 5 },
      { id: 'alice/bob|bob|read|4', key: 'alice/bob|bob|read', seq: 4, ts: 9 },
    ]);
    expect((await db.hidden.where('peer').equals('bob').toArray()).map((h) => h.msg)).toEqual(['m1']);
    expect((await db.messagePins.where('conv').equals('alice/bob').toArray()).map((p) => p.msg)).toEqual(['m1']);
    const first = await db.receiptTimes.where('[key+seq]').between(['alice/bob|bob|read', 2], ['alice/bob|bob|read', Infinity]).first();
    expect(first?.ts).toBe(9);
    db.close();
  });
});
