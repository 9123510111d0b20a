import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { db } from '../db.ts';
import { draftRow, furthestReads, markRead, observePrefs, setArchived, setDraft, setHidden, setPinned, setStarred, stillArchived } from './prefs.ts';
import { newMessages } from '../shared/events.ts';

describe('read markers', () => {
  it('takes a higher marker from the document and tells the document again when it holds a lower one', () => {
    const { put, write } = furthestReads(
      [
        { peer: 'bob', seq: 7 },
        { peer: 'carol', seq: 2 },
        { peer: 'dave', seq: 4 },
      ],
      [{ peer: 'bob', seq: 5 }, { peer: 'carol', seq: 9 }, undefined],
    );
    expect(put).toEqual([
      { peer: 'bob', seq: 7 },
      { peer: 'dave', seq: 4 },
    ]);
    expect(write).toEqual([{ peer: 'carol', seq: 9 }]);
  });
});

describe('archive', () => {
  it('keeps a conversation archived until a message newer than the archiving', () => {
    expect(stillArchived({ archived: true, ts: 100 }, 90)).toBe(true);
    expect(stillArchived({ archived: true, ts: 100 }, 101)).toBe(false);
    expect(stillArchived({ archived: false, ts: 100 }, 90)).toBe(false);
    expect(stillArchived(undefined, 90)).toBe(false);
  });
});

describe('drafts in the prefs document', () => {
  it('writes a draft, reads it back, and empties it with an empty text', () => {
    const doc = new Y.Doc();
    setDraft(doc, 'bob', { text: 'see you', reply: { id: 'm1', from: 'bob' } }, 5);
    expect(draftRow('bob', doc.getMap('drafts').get('bob'))).toEqual({ peer: 'bob', text: 'see you', reply: { id: 'm1', from: 'bob' }, ts: 5 });
    setDraft(doc, 'bob', { text: '' }, 6);
    expect(doc.getMap('drafts').get('bob')).toEqual({ text: '', ts: 6 });
    expect(draftRow('bob', doc.getMap('drafts').get('bob'))).toBeNull();
  });

  it('does not write the same pin twice', () => {
    const doc = new Y.Doc();
    let writes = 0;
    doc.on('update', () => writes++);
    setPinned(doc, 'bob', true, 1);
    setPinned(doc, 'bob', true, 2);
    expect(writes).toBe(1);
  });
});

describe('message events', () => {
  it('reports a conversation whose last message moved to one this device did not write', () => {
    const rows = [
      { peer: 'bob', lastSeq: 3, lastId: 'b3', lastFrom: 'bob', preview: 'hi', lastTs: 1 },
      { peer: 'carol', lastSeq: 5, lastId: 'mine', lastFrom: 'alice', preview: 'yo', lastTs: 2 },
      { peer: 'dave', lastSeq: 1, lastId: 'd1', lastFrom: 'dave', preview: 'new', lastTs: 3 },
    ];
    const held = [{ lastSeq: 2, lastId: 'b2' }, { lastSeq: 0, lastId: 'mine' }, undefined];
    const bob = { peer: 'bob', id: 'b3', from: 'bob', preview: 'hi', seq: 3, ts: 1 };
    // Catching up after a reconnect (not live yet): known conversations only.
    expect(newMessages(rows, held, false)).toEqual([bob]);
    // Live: a conversation new to the device too.
    expect(newMessages(rows, held, true)).toEqual([bob, { peer: 'dave', id: 'd1', from: 'dave', preview: 'new', seq: 1, ts: 3 }]);
  });
});

describe('observing the prefs document', () => {
  it('materialises pins, archives and drafts, and writes a read marker again when another device lowered it', async () => {
    const doc = new Y.Doc();
    const onError = vi.fn();
    const detach = observePrefs(doc, { onError });
    setPinned(doc, 'carol', true, 10);
    setArchived(doc, 'erin', true, 20);
    setDraft(doc, 'bob', { text: 'see you' }, 30);
    markRead(doc, 'bob', 5);
    await vi.waitFor(async () => {
      expect(await db.reads.get('bob')).toEqual({ peer: 'bob', seq: 5 });
      expect(await db.pins.get('carol')).toEqual({ peer: 'carol', pinned: true, ts: 10 });
      expect(await db.archives.get('erin')).toEqual({ peer: 'erin', archived: true, ts: 20 });
      expect(await db.drafts.get('bob')).toEqual({ peer: 'bob', text: 'see you', ts: 30 });
    });

    // Another device of the user, offline since read 3, overwrites the marker with it.
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
    other.getMap('read').set('bob', { seq: 3 });
    setDraft(other, 'bob', { text: '' }, 40);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));

    await vi.waitFor(async () => {
      expect(doc.getMap('read').get('bob')).toEqual({ seq: 5 });
      expect(await db.drafts.get('bob')).toBeUndefined();
    });
    expect(await db.reads.get('bob')).toEqual({ peer: 'bob', seq: 5 });
    // The device that lowered it takes the furthest back.
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
    expect(other.getMap('read').get('bob')).toEqual({ seq: 5 });
    expect(onError).not.toHaveBeenCalled();
    detach();
  });
});

describe('hidden and starred messages', () => {
  it('materialises "delete for me" and stars into their tables, and takes them out again when another device takes them back', async () => {
    const doc = new Y.Doc();
    const errors: unknown[] = [];
    const detach = observePrefs(doc, { onError: (e) => errors.push(e) });
    setHidden(doc, 'm1', 'bob', true, 10);
    setStarred(doc, 'm2', 'bob', true, 11);
    await vi.waitFor(async () => {
      expect(await db.hidden.get('m1')).toEqual({ msg: 'm1', peer: 'bob', ts: 10 });
      expect(await db.stars.get('m2')).toEqual({ msg: 'm2', peer: 'bob', ts: 11 });
    });
    // The other device of the user unstars and unhides: this device's tables follow.
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
    setStarred(other, 'm2', 'bob', false);
    setHidden(other, 'm1', 'bob', false);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)));
    await vi.waitFor(async () => {
      expect(await db.hidden.get('m1')).toBeUndefined();
      expect(await db.stars.get('m2')).toBeUndefined();
    });
    // Starring again writes once.
    let writes = 0;
    doc.on('update', () => writes++);
    setStarred(doc, 'm3', 'bob', true, 12);
    setStarred(doc, 'm3', 'bob', true, 13);
    expect(writes).toBe(1);
    expect(errors).toEqual([]);
    detach();
  });
});
