/**
 * Applying an accepted update from the validator's decoded structs: each case
 * is applied both ways, to the server's document from `verdict.decoded` and to
 * a copy with Y.applyUpdate, and the two must be the same bytes. The
 * differential fuzz (fuzz/differential.ts) does the same over random updates.
 */
import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { integrateDecoded } from './integrate.ts';
import { parseDocPath } from './paths.ts';
import type { Message } from './schemas.ts';
import { validateUpdate } from './validate.ts';

const TS = Date.UTC(2025, 2, 15, 12, 0, 0);
const path = parseDocPath('c2c/alice/bob/2025-03');
if (path === null) throw new Error('bad path');

const message = (id: string): Message => ({ id, from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: id }], ts: TS, profile: { nickname: 'Alice' } });

/** A server document taking alice's updates both ways; `copy` is Y.applyUpdate's. */
class Server {
  readonly doc = new Y.Doc();
  readonly copy = new Y.Doc();

  /** Validates `update`, applies it both ways, and returns the update event each way emitted. */
  take(update: Uint8Array): { integrated: Uint8Array | null; applied: Uint8Array | null } {
    const verdict = validateUpdate(update, { user: 'alice', path: path!, doc: this.doc, now: TS + 1000 });
    if (!verdict.ok) throw new Error(`${verdict.code}: ${verdict.detail}`);
    const integrated = emitted(this.doc, () => integrateDecoded(this.doc, verdict.decoded, null));
    const applied = emitted(this.copy, () => Y.applyUpdate(this.copy, update));
    return { integrated, applied };
  }

  same(): void {
    expect(Y.encodeStateAsUpdate(this.doc)).toEqual(Y.encodeStateAsUpdate(this.copy));
  }
}

function emitted(doc: Y.Doc, run: () => void): Uint8Array | null {
  let update: Uint8Array | null = null;
  const listen = (u: Uint8Array): void => {
    update = u;
  };
  doc.on('update', listen);
  run();
  doc.off('update', listen);
  return update;
}

function device(clientID: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  return doc;
}

/** What a device sends after a write: everything the server lacks (sync step 2 against its state vector). */
const lacking = (doc: Y.Doc, server: Server): Uint8Array => Y.encodeStateAsUpdate(doc, Y.encodeStateVector(server.doc));

describe('integrateDecoded', () => {
  test('applies a new message as Y.applyUpdate does, and emits the same update', () => {
    const server = new Server();
    const alice = device(101);
    alice.getMap('messages').set('m1', message('m1'));
    const { integrated, applied } = server.take(Y.encodeStateAsUpdate(alice));
    server.same();
    expect(integrated).toEqual(applied);
    expect(server.doc.getMap('messages').get('m1')).toEqual(message('m1'));
  });

  test('skips the structs the server holds already and applies the rest (a device sending its whole state again)', () => {
    const server = new Server();
    const alice = device(101);
    alice.getMap('messages').set('m1', message('m1'));
    server.take(Y.encodeStateAsUpdate(alice));
    alice.getMap('messages').set('m2', message('m2'));
    alice.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    alice.getMap('receipts').set('alice|read', { user: 'alice', seq: 2 });
    server.take(Y.encodeStateAsUpdate(alice));
    server.same();
    expect([...server.doc.getMap('messages').keys()].sort()).toEqual(['m1', 'm2']);
  });

  test('applies deletions (a recall: its marker, and the content of one of several messages deleted)', () => {
    const server = new Server();
    const alice = device(101);
    alice.transact(() => {
      for (const id of ['m1', 'm2', 'm3']) alice.getMap('messages').set(id, message(id));
    });
    server.take(Y.encodeStateAsUpdate(alice));
    alice.transact(() => {
      alice.getMap('recalls').set('m2', { by: 'alice', ts: TS + 500 });
      alice.getMap('messages').delete('m2');
    });
    const { integrated, applied } = server.take(lacking(alice, server));
    server.same();
    expect(integrated).toEqual(applied);
    expect(server.doc.getMap('messages').has('m2')).toBe(false);
  });

  test('integrates a struct after the one of a lower client id it overwrites, as Yjs orders them (two devices of one user, sent together)', () => {
    const server = new Server();
    const first = device(101);
    first.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    const second = device(150);
    Y.applyUpdate(second, Y.encodeStateAsUpdate(first));
    second.getMap('receipts').set('alice|read', { user: 'alice', seq: 2 });
    const { integrated, applied } = server.take(Y.encodeStateAsUpdate(second));
    server.same();
    expect(integrated).toEqual(applied);
    expect(server.doc.getMap('receipts').get('alice|read')).toEqual({ user: 'alice', seq: 2 });
  });
});
