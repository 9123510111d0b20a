/** The document checksum of `npm run migrate`: equal for one document however it is stored, different for any other. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docChecksum, loadParts } from './checksum.ts';

/** A writer's history as separate updates, the way a server's log holds them. */
function history(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const messages = doc.getMap('messages');
  for (let i = 0; i < 5; i++) messages.set(`m${i}`, { id: `m${i}`, body: [{ type: 'text', text: `hello ${i}` }], n: i });
  doc.transact(() => {
    doc.getMap('recalls').set('m3', { by: 'alice' });
    messages.delete('m3');
  });
  doc.getMap('seq').set('m0', 1);
  return updates;
}

describe('document checksum', () => {
  it('is the same for a log, one snapshot of it, a snapshot and the rest of the log, and a merge applied twice', () => {
    const updates = history();
    const fromLog = loadParts({ snapshot: null, updates: updates.map((data) => ({ data })) });
    const expected = docChecksum(fromLog);
    const snapshot = Y.encodeStateAsUpdate(fromLog);
    expect(docChecksum(loadParts({ snapshot, updates: [] }))).toBe(expected);
    const early = loadParts({ snapshot: null, updates: updates.slice(0, 3).map((data) => ({ data })) });
    expect(docChecksum(loadParts({ snapshot: Y.encodeStateAsUpdate(early), updates: updates.slice(2).map((data) => ({ data })) }))).toBe(expected);
    const merged = loadParts({ snapshot, updates: [{ data: snapshot }, { data: Y.encodeStateAsUpdate(fromLog, Y.encodeStateVector(early)) }] });
    expect(docChecksum(merged)).toBe(expected);
    // Map keys in another insertion order hash alike: only their content counts.
    const reordered = new Y.Doc();
    Y.applyUpdate(reordered, Y.mergeUpdates([...updates].reverse()));
    expect(docChecksum(reordered)).toBe(expected);
  });

  it('differs for one more write, one more deletion, or the same values written by another client', () => {
    const updates = history();
    const base = loadParts({ snapshot: null, updates: updates.map((data) => ({ data })) });
    const expected = docChecksum(base);
    const more = loadParts({ snapshot: Y.encodeStateAsUpdate(base), updates: [] });
    more.getMap('seq').set('m1', 2);
    expect(docChecksum(more)).not.toBe(expected);
    const deleted = loadParts({ snapshot: Y.encodeStateAsUpdate(base), updates: [] });
    deleted.getMap('messages').delete('m4');
    expect(docChecksum(deleted)).not.toBe(expected);
    // The same JSON with other structs: a copy that lost its history is not the same document.
    const retyped = new Y.Doc();
    for (const name of base.share.keys()) {
      for (const [key, entry] of base.getMap(name).entries()) retyped.getMap(name).set(key, entry);
    }
    expect(docChecksum(retyped)).not.toBe(expected);
  });
});
