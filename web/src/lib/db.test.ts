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
