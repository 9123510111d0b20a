import 'fake-indexeddb/auto';
import * as Y from 'yjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { db, outboxId, type ExtraOutboxRow, type OutboxRow } from '../db.ts';
import { messageState } from '../shared/messageState.ts';
import { messageRow } from './materialise.ts';
import { acknowledge, entriesOf, messageEntriesOf, reapply, reject } from './outbox.ts';
import { projectPushed, projectSegment, stagePending } from './projector.ts';

const PATH = conversationPath('alice', 'bob', '2026-12');
const message = (id: string, ts: number) => ({ id, from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: `text ${id}` }], ts, profile: { nickname: 'Alice' } });
const entry = (id: string, createdAt: number): OutboxRow => ({ id, kind: 'message', path: PATH, conv: 'alice/bob', peer: 'bob', message: message(id, createdAt), state: 'pending', createdAt });

/** Stages a message as messaging.ts does: its outbox entry, its row, the list's preview. */
async function stage(id: string, createdAt: number): Promise<void> {
  await stagePending(entry(id, createdAt), messageRow(message(id, createdAt), undefined, 'alice'), { from: 'alice', preview: `text ${id}`, ts: createdAt, segment: '2026-12' });
}

/** The state the conversation shows for a message, from the tables (state/conversation.svelte.ts). */
async function shownState(id: string): Promise<string | undefined> {
  const row = await db.messages.get(id);
  if (row === undefined) return undefined;
  const outbox = (await messageEntriesOf('alice/bob')).find((e) => e.id === id);
  return messageState({ seq: row.seq, outbox, peerDelivered: 0, peerRead: 0 });
}

const target = (doc: Y.Doc, synced = true) => ({ path: PATH, doc, synced });

beforeEach(async () => {
  await Promise.all([db.outbox.clear(), db.messages.clear(), db.conversations.clear(), db.blobs.clear()]);
});

describe('the outbox', () => {
  it('an acknowledged message leaves the outbox, and once stamped its row shows sent', async () => {
    await stage('m1', 1);
    expect(await shownState('m1')).toBe('pending');
    const doc = new Y.Doc();
    await reapply(target(doc), 'alice');
    expect(doc.getMap('messages').has('m1')).toBe(true);

    await acknowledge(target(doc), { type: 'ack', client: doc.clientID, clock: 1, msgIds: ['m1'] });
    expect(await entriesOf(PATH)).toEqual([]);
    // The server's stamp comes back in the document: the synced row replaces the pending one.
    doc.getMap('seq').set('m1', 7);
    const synced = messageRow(doc.getMap('messages').get('m1'), 7, 'alice', '2026-12');
    await projectSegment(synced === null ? [] : [synced], [], 'bob', undefined);
    expect(await shownState('m1')).toBe('sent');
  });

  it('a refused message stays, failed with its code, and goes again when retried', async () => {
    await stage('m1', 1);
    const doc = new Y.Doc();
    await reapply(target(doc), 'alice');
    const errors: unknown[] = [];
    await reject(PATH, { type: 'reject', code: 'not-author', message: 'no', msgIds: ['m1'] }, (e) => errors.push(e));
    expect(await db.outbox.get('m1')).toMatchObject({ state: 'failed', code: 'not-author' });
    expect(await shownState('m1')).toBe('failed');
    expect((await db.messages.get('m1'))?.text).toBe('text m1');
    expect(errors).toEqual([]);

    // The copy was reset from the server's (which has nothing): a failed entry is not written again by itself…
    const fresh = new Y.Doc();
    await reapply(target(fresh), 'alice');
    expect(fresh.getMap('messages').has('m1')).toBe(false);
    // …until it is pending again (Retry).
    await db.outbox.update('m1', { state: 'pending', code: undefined });
    await reapply(target(fresh), 'alice');
    expect(fresh.getMap('messages').has('m1')).toBe(true);
    expect(await shownState('m1')).toBe('pending');
  });

  it("keeps the app server's own words with a message it refused (callback-refused), and only those", async () => {
    await stage('m1', 1);
    await stage('m2', 2);
    await reject(PATH, { type: 'reject', code: 'callback-refused', message: 'Mind your language, please.', msgIds: ['m1'] }, () => undefined);
    expect(await db.outbox.get('m1')).toMatchObject({ state: 'failed', code: 'callback-refused', reason: 'Mind your language, please.' });
    await reject(PATH, { type: 'reject', code: 'not-author', message: 'A message must name its sender as its author. (from is x)', msgIds: ['m2'] }, () => undefined);
    expect((await db.outbox.get('m2'))?.reason).toBeUndefined();
  });

  it('self-healing refusals fail nothing: the writes stay pending', async () => {
    await stage('m1', 1);
    await reject(PATH, { type: 'reject', code: 'reset-required', message: '', msgIds: ['m1'] }, () => undefined);
    expect(await db.outbox.get('m1')).toMatchObject({ state: 'pending' });
    await reject(PATH, { type: 'reject', code: 'slow-down', message: '', msgIds: ['m1'] }, () => undefined);
    expect(await db.outbox.get('m1')).toMatchObject({ state: 'pending', code: 'slow-down' });
  });

  it('after a reconnect, re-sends every unacknowledged write the copy lacks, oldest first, and drops what the server stored', async () => {
    await stage('m1', 10);
    await stage('m3', 30);
    await stage('m0', 5);
    const reaction = { msg: 'm0', from: 'alice', emoji: '👍', ts: 20 };
    const extra: ExtraOutboxRow = {
      id: outboxId('extra', 'reactions|m0|alice|👍'),
      kind: 'extra',
      key: 'reactions|m0|alice|👍',
      path: PATH,
      root: 'reactions',
      docKey: 'm0|alice|👍',
      msg: 'm0',
      value: reaction,
      state: 'pending',
      client: 1,
      clock: 1,
      createdAt: 20,
    };
    await db.outbox.put(extra);

    // The server's copy after the reconnect holds m0, stamped (its ack was lost).
    const server = new Y.Doc();
    server.getMap('messages').set('m0', message('m0', 5));
    server.getMap('seq').set('m0', 1);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server));
    const written: string[][] = [];
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.local) written.push([...tr.changed.keys()].flatMap((type) => [...(tr.changed.get(type) ?? [])].filter((k): k is string => k !== null)));
    });
    await reapply(target(doc), 'alice');

    expect(written).toEqual([['m1'], ['m0|alice|👍'], ['m3']]);
    expect((await entriesOf(PATH)).map((e) => e.id)).toEqual(['m1', extra.id, 'm3']);
    // The extra's ack is judged where its item now sits.
    const moved = await db.outbox.get(extra.id);
    expect(moved).toMatchObject({ client: doc.clientID });

    await acknowledge(target(doc), { type: 'ack', client: doc.clientID, clock: Y.getState(doc.store, doc.clientID), msgIds: ['m1', 'm3'] });
    expect(await entriesOf(PATH)).toEqual([]);
  });
});

describe('the projector', () => {
  it('a pushed row and the synced row of one message converge to one row, the synced one, whichever comes first', async () => {
    const value = { ...message('p1', 3), from: 'bob', to: 'alice', profile: { nickname: 'Bob' } };
    const pushed = messageRow({ ...value, body: [{ type: 'text', text: 'text p1 (preview)' }] }, 4, 'alice', '2026-12');
    const synced = messageRow(value, 4, 'alice', '2026-12');
    if (pushed === null || synced === null) throw new Error('rows');
    const push = {
      id: 'p1',
      seq: 4,
      peer: 'bob',
      entry: () => ({ peer: 'bob', segment: '2026-12', lastSeq: 4, last: { id: 'p1', from: 'bob', preview: 'text p1', ts: 3, seq: 4 }, unread: 1, updatedAt: 3 }),
    };

    await projectPushed(push, pushed, null);
    expect(await db.messages.get('p1')).toMatchObject({ pushed: true, text: 'text p1 (preview)' });
    expect(await db.conversations.get('bob')).toMatchObject({ pushed: true, lastSeq: 4, unread: 1 });
    await projectSegment([synced], [], 'bob', 'Bob');
    expect(await db.messages.where('conv').equals('alice/bob').toArray()).toEqual([synced]);

    // Pushed again after the sync: the synced row stays.
    await projectPushed(push, pushed, null);
    expect(await db.messages.where('conv').equals('alice/bob').toArray()).toEqual([synced]);
  });
});
