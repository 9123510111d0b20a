import { describe, expect, it } from 'vitest';
import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import { LIMITS } from './limits.ts';
import { scanUpdate } from './scan.ts';
import { bodyBytes } from './schemas.ts';
import { splitLimitsOf, splitUpdate, SYNC_FRAME_OVERHEAD, type SplitLimits } from './split.ts';
import { DEFAULT_SYNC_LIMITS } from './wire.ts';

/** What a receiver holds after applying `pieces` in order to a copy of `base`, checking after each that nothing waits. */
function applyInOrder(base: Y.Doc, pieces: readonly Uint8Array[]): Y.Doc {
  const receiver = new Y.Doc();
  Y.applyUpdate(receiver, Y.encodeStateAsUpdate(base));
  for (const [i, piece] of pieces.entries()) {
    Y.applyUpdate(receiver, piece);
    expect(receiver.store.pendingStructs, `pending structs after piece ${i}`).toBeNull();
    expect(receiver.store.pendingDs, `pending deletions after piece ${i}`).toBeNull();
  }
  return receiver;
}

/** Each piece within `limits`, counted as the server's scan counts. */
function expectWithin(pieces: readonly Uint8Array[], limits: SplitLimits): void {
  for (const piece of pieces) {
    const scan = scanUpdate(piece, { maxBytes: limits.maxBytes, maxStructs: limits.maxStructs });
    expect(scan.ok, scan.ok ? '' : scan.detail).toBe(true);
    if (scan.ok) expect(scan.writes).toBeLessThanOrEqual(limits.maxWrites);
  }
}

/** The root types the tests write, read as the kinds they write them as. */
const ROOTS = { messages: Y.Map, receipts: Y.Map, reactions: Y.Map, m: Y.Map, t: Y.Text, a: Y.Array, l: Y.Array } as const;

/** The document's content as JSON with map keys sorted (a map's key order is the order its keys arrived in). */
function contentOf(doc: Y.Doc): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).sort(([p], [q]) => (p < q ? -1 : 1)).map(([k, v]) => [k, sorted(v)]))
        : value;
  return JSON.stringify(Object.entries(ROOTS).map(([name, kind]) => sorted((doc.get(name, kind) as Y.AbstractType<unknown>).toJSON())));
}

/** `doc` split against what `base` holds, applied in order to a copy of it: the same document as `doc`. */
function roundTrip(doc: Y.Doc, base: Y.Doc, limits: SplitLimits): Uint8Array[] {
  const pieces = splitUpdate(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(base)), limits);
  expectWithin(pieces, limits);
  const receiver = applyInOrder(base, pieces);
  expect(Y.encodeStateVector(receiver)).toEqual(Y.encodeStateVector(doc));
  // Compared as strings: a failing comparison of 17 MB documents must not print them.
  expect(contentOf(receiver) === contentOf(doc), 'the same content').toBe(true);
  expect(Y.equalDeleteSets(Y.createDeleteSetFromStructStore(receiver.store), Y.createDeleteSetFromStructStore(doc.store))).toBe(true);
  return pieces;
}

const message = (id: string, text: string) => ({ id, from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text }], ts: 1, profile: { nickname: 'alice' } });

const ample: SplitLimits = { maxBytes: 4 * 1024 * 1024, maxStructs: 10_000, maxWrites: 50 };

describe('splitUpdate', () => {
  it('gives back an update within the limits unchanged', () => {
    const doc = new Y.Doc();
    doc.getMap('messages').set('m1', message('m1', 'hi'));
    const update = Y.encodeStateAsUpdate(doc);
    expect(splitUpdate(update, ample)).toEqual([update]);
    expect(splitUpdate(update, ample)[0]).toBe(update);
  });

  it('splits an offline backlog of the largest messages into pieces within the bytes and writes limits that rebuild the same document', () => {
    // A tenth of the backlog (1,400 messages, over 16 MiB) against a tenth of the byte budget: the same cuts, ten times faster.
    const limits = { ...ample, maxBytes: ample.maxBytes / 10 };
    const base = new Y.Doc();
    base.getMap('messages').set('m0', message('m0', 'hello'));
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(base));
    const text = 'x'.repeat(LIMITS.bodyBytes - bodyBytes([{ type: 'text', text: '' }]));
    doc.transact(() => {
      for (let i = 0; i < 140; i++) doc.getMap('messages').set(`m${i + 1}`, message(`m${i + 1}`, text));
    });
    const whole = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(base));
    expect(whole.length).toBeGreaterThan(16 * 1024 * 1024 / 10);
    // 50 writes (600 KB) would be over the bytes: about 33 messages a piece.
    const pieces = roundTrip(doc, base, limits);
    expect(pieces).toHaveLength(Math.ceil(whole.length / (limits.maxBytes - 2 * LIMITS.bodyBytes)));
    // With room for more bytes, the writes limit cuts: 50 messages a piece.
    expect(roundTrip(doc, base, { ...limits, maxBytes: ample.maxBytes })).toHaveLength(3);
  });

  it('orders pieces so that no struct arrives before what it refers to, across clients', () => {
    // Two devices of one user type into one text, each in turn, referring to each other's characters
    // both ways, and overwrite each other's keys; then they merge offline.
    const base = new Y.Doc();
    base.getText('t').insert(0, 'base');
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.clientID = 1; // lower than b's: Yjs writes b's section first, yet b's first struct needs a's
    b.clientID = 2;
    for (const d of [a, b]) Y.applyUpdate(d, Y.encodeStateAsUpdate(base));
    for (let round = 0; round < 40; round++) {
      const [writer, other] = round % 2 === 0 ? [a, b] : [b, a];
      const text = writer.getText('t');
      text.insert(round % (text.length + 1), `${round}`);
      writer.getMap('m').set(`k${round % 5}`, round);
      if (round % 7 === 6) text.delete(0, 2);
      Y.applyUpdate(other, Y.encodeStateAsUpdate(writer, Y.encodeStateVector(other)));
    }
    for (const maxStructs of [2, 3, 7, 50]) {
      const pieces = roundTrip(a, base, { maxBytes: 1024 * 1024, maxStructs, maxWrites: 1000 });
      if (maxStructs < 50) expect(pieces.length).toBeGreaterThan(1);
    }
    expect(() => roundTrip(a, base, { maxBytes: 80, maxStructs: 1000, maxWrites: 1000 })).not.toThrow();
  });

  it('counts only new keys of messages, edits, reactions and actions as writes', () => {
    const doc = new Y.Doc();
    doc.transact(() => {
      for (let i = 0; i < 30; i++) {
        doc.getMap('messages').set(`m${i}`, message(`m${i}`, 'x'));
        doc.getMap('receipts').set(`r${i}`, { seq: i });
        doc.getMap('reactions').set(`m${i}|alice|👍`, { ts: 1 });
      }
    });
    const pieces = roundTrip(doc, new Y.Doc(), { maxBytes: 1024 * 1024, maxStructs: 1000, maxWrites: 10 });
    expect(pieces).toHaveLength(6);
  });

  it('sends the deletions last, split over several pieces when they are many', () => {
    const base = new Y.Doc();
    const doc = new Y.Doc();
    const list = doc.getArray<number>('a');
    list.insert(0, Array.from({ length: 200 }, (_, i) => i));
    Y.applyUpdate(base, Y.encodeStateAsUpdate(doc));
    // A deletion range per other element, and new elements after them.
    for (let i = 100; i >= 0; i -= 2) list.delete(i, 1);
    list.push([1, 2, 3]);
    const limits = { maxBytes: 1024 * 1024, maxStructs: 10, maxWrites: 10 };
    const pieces = roundTrip(doc, base, limits);
    const deletes = pieces.map((p) => Y.decodeUpdate(p).ds.clients.size > 0);
    const first = deletes.indexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(deletes.slice(first).every(Boolean)).toBe(true);
    expect(pieces.slice(first).every((p, i) => i === 0 || Y.decodeUpdate(p).structs.length === 0)).toBe(true);
    expect(deletes.filter(Boolean).length).toBeGreaterThan(1);
  });

  it('rebuilds the same document from random edits of three devices, whatever the limits', () => {
    const gen = prng.create(13);
    for (let trial = 0; trial < 30; trial++) {
      const docs = [1, 2, 3].map((id) => {
        const d = new Y.Doc();
        d.clientID = id * 1000 + trial;
        return d;
      });
      const base = new Y.Doc();
      for (let step = 0; step < 60; step++) {
        const d = docs[prng.uint32(gen, 0, 2)] ?? new Y.Doc();
        const op = prng.uint32(gen, 0, 5);
        const text = d.getText('t');
        const list = d.getArray<string>('l');
        if (op === 0) text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 1, 6));
        else if (op === 1 && text.length > 0) text.delete(prng.uint32(gen, 0, text.length - 1), 1);
        else if (op === 2) d.getMap('messages').set(`k${prng.uint32(gen, 0, 20)}`, { v: step });
        else if (op === 3) list.insert(prng.uint32(gen, 0, list.length), [prng.word(gen, 0, 3)]);
        else if (op === 4 && list.length > 0) list.delete(prng.uint32(gen, 0, list.length - 1), 1);
        else {
          const [p, q] = [docs[prng.uint32(gen, 0, 2)], docs[prng.uint32(gen, 0, 2)]];
          if (p !== undefined && q !== undefined) Y.applyUpdate(q, Y.encodeStateAsUpdate(p, Y.encodeStateVector(q)));
        }
        if (step === 20) for (const other of docs) Y.applyUpdate(base, Y.encodeStateAsUpdate(other));
      }
      const all = new Y.Doc();
      for (const d of docs) Y.applyUpdate(all, Y.encodeStateAsUpdate(d));
      const limits = { maxBytes: prng.uint32(gen, 60, 400), maxStructs: prng.uint32(gen, 2, 12), maxWrites: prng.uint32(gen, 1, 4) };
      roundTrip(all, base, limits);
    }
  });

  it('keeps each piece within the update budget and its frame within the frame limit', () => {
    expect(splitLimitsOf(DEFAULT_SYNC_LIMITS)).toEqual({ maxBytes: 4 * 1024 * 1024, maxStructs: 10_000, maxWrites: 50 });
    const tightFrames = { ...DEFAULT_SYNC_LIMITS, maxFrameBytes: 1024 * 1024 };
    expect(splitLimitsOf(tightFrames).maxBytes).toBe(1024 * 1024 - SYNC_FRAME_OVERHEAD);
  });

  it('refuses a malformed update', () => {
    const doc = new Y.Doc();
    doc.getMap('messages').set('m1', message('m1', 'hi'));
    const update = Y.encodeStateAsUpdate(doc);
    expect(() => splitUpdate(update.subarray(0, update.length - 4), { ...ample, maxWrites: 0 })).toThrow();
    expect(() => splitUpdate(new Uint8Array([1, 1, 5, 0, 31]), ample)).toThrow();
  });
});
