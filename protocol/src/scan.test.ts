import { describe, expect, test } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { scanUpdate } from './scan.ts';

const roomy = { maxBytes: 1 << 30, maxStructs: 1 << 30 };

function update(write: (doc: Y.Doc) => void, clientID = 7): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  doc.transact(() => write(doc));
  const bytes = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return bytes;
}

describe('scanUpdate', () => {
  test('counts structs and the new writes the message rate counts, naming the messages', () => {
    const bytes = update((doc) => {
      doc.getMap('messages').set('m1', { id: 'm1', body: [{ type: 'text', text: 'hé 😀' }] });
      doc.getMap('messages').set('m2', { id: 'm2' });
      doc.getMap('reactions').set('m1|alice|👍', { msg: 'm1' });
      doc.getMap('receipts').set('alice|read', { seq: 1 });
      doc.getText('t').insert(0, 'text 😀 counts by UTF-16 units');
    });
    const scan = scanUpdate(bytes, roomy);
    expect(scan).toEqual({ ok: true, structs: Y.decodeUpdate(bytes).structs.length, writes: 3, msgIds: ['m1', 'm2'] });
  });

  test('does not count writes the server holds already', () => {
    const bytes = update((doc) => {
      doc.getMap('messages').set('m1', { id: 'm1' });
      doc.getMap('messages').set('m2', { id: 'm2' });
    });
    const scan = scanUpdate(bytes, roomy, (client) => (client === 7 ? 1 : 0));
    expect(scan).toMatchObject({ ok: true, writes: 1, msgIds: ['m2'] });
  });

  test('refuses an update over the byte budget without reading it', () => {
    expect(scanUpdate(new Uint8Array(1001), { maxBytes: 1000, maxStructs: 10 })).toMatchObject({ ok: false, reason: 'bytes' });
  });

  test('refuses an update over the struct budget from its section header', () => {
    const bytes = update((doc) => {
      for (let i = 0; i < 50; i++) doc.getMap('messages').set(`k${i}`, i);
    });
    expect(scanUpdate(bytes, { maxBytes: 1 << 20, maxStructs: 49 })).toMatchObject({ ok: false, reason: 'structs' });
    expect(scanUpdate(bytes, { maxBytes: 1 << 20, maxStructs: 50 })).toMatchObject({ ok: true, structs: 50 });
  });

  test('counts delete-set ranges against the struct budget', () => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 7);
    encoding.writeVarUint(encoder, 100);
    for (let i = 0; i < 100; i++) {
      encoding.writeVarUint(encoder, i * 2);
      encoding.writeVarUint(encoder, 1);
    }
    expect(scanUpdate(encoding.toUint8Array(encoder), { maxBytes: 1 << 20, maxStructs: 50 })).toMatchObject({ ok: false, reason: 'structs' });
  });

  test('says malformed for a truncated update', () => {
    const bytes = update((doc) => doc.getMap('messages').set('m1', { id: 'm1' }));
    expect(scanUpdate(bytes.slice(0, bytes.length - 4), roomy)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
