import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { editKey, reactionKey } from '@parley/protocol';
import type { ExtraOutboxRow } from '../db.ts';
import type { SyncedDoc } from './syncedDoc.ts';
import { attachExtras, eraseContent, latestEdit, messagePinRow, msgOfKey, reactionList, recalledRow } from './extras.ts';
import { extrasAcked } from './outboxPlan.ts';

const msg = { id: 'm1', from: 'alice', type: 'text' };
const edit = (n: number, text: string, from = 'alice', id = 'm1') => [editKey(id, n), { msg: id, from, n, text, ts: n }] as [string, unknown];
const reaction = (from: string, emoji: string, ts: number, id = 'm1') => [reactionKey(id, from, emoji), { msg: id, from, emoji, ts }] as [string, unknown];

describe('msgOfKey', () => {
  it('reads the message id of an edit or reaction key', () => {
    expect(msgOfKey('m1|3')).toBe('m1');
    expect(msgOfKey('m1|bob|👍')).toBe('m1');
  });
});

describe('latestEdit', () => {
  it('is the sender’s edit with the highest n', () => {
    expect(latestEdit(msg, [edit(1, 'one'), edit(3, 'three'), edit(2, 'two')])?.text).toBe('three');
  });

  it('ignores edits by someone else, under the wrong key, malformed, or of a message that is not text', () => {
    expect(latestEdit(msg, [edit(1, 'mine'), edit(2, 'not mine', 'bob')])?.text).toBe('mine');
    expect(latestEdit(msg, [['m1|9', { msg: 'm1', from: 'alice', n: 2, text: 'x', ts: 0 }]])).toBeNull();
    expect(latestEdit(msg, [['m1|1', { text: 'x' }]])).toBeNull();
    expect(latestEdit({ ...msg, type: 'image' }, [edit(1, 'one')])).toBeNull();
  });
});

describe('reactionList', () => {
  it('groups by emoji in order of first reaction, each user once', () => {
    expect(reactionList('m1', [reaction('bob', '👍', 2), reaction('alice', '❤️', 1), reaction('alice', '👍', 3)])).toEqual([
      { emoji: '❤️', users: ['alice'] },
      { emoji: '👍', users: ['bob', 'alice'] },
    ]);
  });

  it('ignores values under another key or another message', () => {
    expect(reactionList('m1', [['m1|bob|👍', { msg: 'm1', from: 'carol', emoji: '👍', ts: 1 }], reaction('bob', '👍', 1, 'm2')])).toEqual([]);
  });
});

describe('recalledRow', () => {
  const held = { id: 'm1', conv: 'alice/bob', peer: 'alice', from: 'alice', to: 'bob', body: [{ type: 'text' as const, text: 'secret' }], text: 'secret', words: ['secret'], ts: 5, seq: 4, order: 4, segment: '2025-03', nickname: 'Alice', type: 'text' as const };

  it('keeps who and when, nothing of the content (words included)', () => {
    const row = recalledRow('m1', { by: 'alice', ts: 9 }, held, 4, 'bob', 'alice', '2025-03');
    expect(row).toMatchObject({ id: 'm1', from: 'alice', to: 'bob', ts: 5, seq: 4, text: '', body: [], recalled: { by: 'alice', ts: 9 } });
    expect(row?.words ?? []).toEqual([]);
    expect(JSON.stringify(row)).not.toContain('secret');
  });

  it('is made from the recall alone when the device never held the message', () => {
    expect(recalledRow('m1', { by: 'alice', ts: 9 }, undefined, 4, 'bob', 'alice', '2025-03')).toMatchObject({ from: 'alice', to: 'bob', ts: 9, seq: 4, recalled: { by: 'alice' } });
  });
});

describe('extrasAcked', () => {
  const row = (key: string, value: unknown, client: number, clock: number): ExtraOutboxRow => ({ id: key, kind: 'extra', key, path: 'p', root: 'reactions', docKey: key, msg: 'm1', value, state: 'pending', client, clock, createdAt: 0 });

  it('stores a write acked at or past its clock by its client, and deletions on a delete-only ack', () => {
    const rows = [row('a', {}, 7, 3), row('b', {}, 7, 5), row('c', null, 7, 5), row('d', {}, 8, 1)];
    expect(extrasAcked(rows, { client: 7, clock: 4 })).toEqual(['a']);
    expect(extrasAcked(rows, { client: 7, clock: 5 })).toEqual(['a', 'b', 'c']);
    expect(extrasAcked(rows, { client: 0, clock: 0 })).toEqual(['c']);
  });
});

describe('eraseContent', () => {
  it('leaves no byte of the recalled text in a garbage-collected copy', () => {
    const doc = new Y.Doc();
    doc.getMap('messages').set('m1', { id: 'm1', text: 'zebra-secret' });
    doc.getMap('edits').set('m1|1', { msg: 'm1', text: 'zebra-edited' });
    doc.getMap('messages').set('m2', { id: 'm2', text: 'kept' });
    const decode = (): string => new TextDecoder().decode(Y.encodeStateAsUpdate(doc));
    expect(decode()).toContain('zebra-secret');
    doc.transact(() => {
      doc.getMap('recalls').set('m1', { by: 'alice', ts: 1 });
      eraseContent(doc, 'm1');
    });
    expect(decode()).not.toContain('zebra');
    expect(decode()).toContain('kept');
  });
});

describe('attachExtras rowOf', () => {
  it('builds a row with its latest edit (words included), reply and reactions, kept current as the maps change', () => {
    const doc = new Y.Doc();
    const ts = Date.UTC(2025, 2, 3);
    doc.getMap('messages').set('m1', { id: 'm1', from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: 'old words' }], ts, profile: { nickname: 'Alice' }, reply: { id: 'm0', from: 'bob' } });
    doc.getMap('seq').set('m1', 2);
    doc.getMap('edits').set(editKey('m1', 1), { msg: 'm1', from: 'alice', n: 1, text: 'new words', ts: ts + 1 });
    const extras = attachExtras(doc, { me: 'bob', peer: 'alice', segment: '2025-03', synced: {} as SyncedDoc, compactInbox: () => Promise.resolve(), error: () => undefined });
    expect(extras.rowOf('m1')).toMatchObject({ text: 'new words', edited: true, reply: { id: 'm0', from: 'bob' }, seq: 2 });
    expect(extras.rowOf('m1')?.words).toEqual(expect.arrayContaining(['new', 'words']));
    expect(extras.rowOf('m1')?.words).not.toContain('old');
    doc.getMap('reactions').set(reactionKey('m1', 'bob', '👍'), { msg: 'm1', from: 'bob', emoji: '👍', ts: ts + 2 });
    expect(extras.rowOf('m1')?.reactions).toEqual([{ emoji: '👍', users: ['bob'] }]);
    doc.getMap('reactions').delete(reactionKey('m1', 'bob', '👍'));
    expect(extras.rowOf('m1')?.reactions).toBeUndefined();
    extras.detach();
  });
});

describe('message pins', () => {
  it('makes a row of a pin whose value matches its key, and none of a malformed or deleted one', () => {
    expect(messagePinRow('alice/bob', 'm1|bob', { msg: 'm1', from: 'bob', ts: 5 })).toEqual({ key: 'alice/bob|m1|bob', conv: 'alice/bob', msg: 'm1', from: 'bob', ts: 5 });
    expect(messagePinRow('alice/bob', 'm1|alice', { msg: 'm1', from: 'bob', ts: 5 })).toBeNull();
    expect(messagePinRow('alice/bob', 'm1|bob', undefined)).toBeNull();
    expect(messagePinRow('alice/bob', 'm1|bob', { msg: 'm1', from: 'bob' })).toBeNull();
  });
});
