/**
 * Updates that name clocks the server does not hold (issue 13, faults 2 and
 * 3), end to end: a real server on real SQLite files, real y-websocket
 * clients, and the crafted update sent as a raw sync frame on the sender's
 * own socket, the way a modified client would.
 *
 * - A valid new message followed by an overwrite whose right origin names a
 *   clock its client has not reached: Yjs integrated the message, then threw.
 *   It must be refused whole: a reject, nothing served to the peer, nothing
 *   stored.
 * - A delete set over the sender's own future clocks: the item written there
 *   later (a recall marker) was deleted on arrival. It must be refused.
 */
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { conversationPath, MESSAGE_SYNC, segmentOf, type Message } from '@parley/protocol';
import { acks, cleanup, message, openDoc, rejects, send, signUp, startServer, storedDoc, synced, waitFor, type Client, type TestServer } from './helpers.ts';

afterEach(cleanup);

async function connect(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

/** Sends `update` as a sync update frame on the client's socket, as a modified client would. */
function sendRaw(client: Client, update: Uint8Array): void {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeUpdate(encoder, update);
  const ws = client.provider.ws;
  if (ws === null) throw new Error('the client has no socket');
  ws.send(encoding.toUint8Array(encoder));
}

/** What `client` would send for `write`, made on a copy of its document (so the client itself sends nothing). */
function craft(client: Client, write: (doc: Y.Doc) => void): { doc: Y.Doc; update: Uint8Array } {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(client.doc));
  doc.clientID = client.doc.clientID;
  let update: Uint8Array | null = null;
  doc.on('update', (u: Uint8Array) => {
    update = u;
  });
  doc.transact(() => write(doc));
  if (update === null) throw new Error('the write changed nothing');
  return { doc, update };
}

/** `update` written again in update format v1 after `bend` changed its decoded structs. */
function rewrite(update: Uint8Array, bend: (structs: (Y.Item | Y.GC | Y.Skip)[]) => void): Uint8Array {
  const { structs, ds } = Y.decodeUpdate(update);
  bend(structs);
  const encoder = new Y.UpdateEncoderV1();
  const clients = [...new Set(structs.map((s) => s.id.client))];
  encoding.writeVarUint(encoder.restEncoder, clients.length);
  for (const client of clients) {
    const own = structs.filter((s) => s.id.client === client);
    encoding.writeVarUint(encoder.restEncoder, own.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, own[0]?.id.clock ?? 0);
    for (const s of own) s.write(encoder, 0);
  }
  encoding.writeVarUint(encoder.restEncoder, ds.clients.size);
  for (const [client, ranges] of ds.clients) {
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, ranges.length);
    for (const r of ranges) {
      encoding.writeVarUint(encoder.restEncoder, r.clock);
      encoding.writeVarUint(encoder.restEncoder, r.len);
    }
  }
  return encoder.toUint8Array();
}

/** An update of nothing but a deletion of `len` clocks of `client` from `clock`. */
function deletion(client: number, clock: number, len: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0); // no structs
  encoding.writeVarUint(encoder, 1); // deletions of one client
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, clock);
  encoding.writeVarUint(encoder, len);
  return encoding.toUint8Array(encoder);
}

async function setup() {
  const server = await startServer();
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', segmentOf(Date.now()));
  const a = await connect(server, path, alice.accessToken);
  const b = await connect(server, path, bob.accessToken);
  return { server, alice, bob, path, a, b };
}

describe('updates that name clocks the server does not hold', () => {
  it('refuses a new message followed by an overwrite whose right origin is a future clock: no reject-less half apply, nothing served, nothing stored', async () => {
    const { server, bob, path, a, b } = await setup();
    // Alice's receipt, which the crafted update overwrites (an overwrite of her own item is allowed).
    a.doc.getMap('receipts').set('alice|read', { user: 'alice', seq: 0 });
    await waitFor(() => b.doc.getMap('receipts').has('alice|read'), 'the receipt reaches bob');

    const hidden = message('alice', 'bob', 'half applied');
    const { doc: scratch, update } = craft(a, (doc) => {
      doc.getMap('messages').set(hidden.id, hidden);
      doc.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    });
    const future = Y.getState(scratch.store, scratch.clientID) + 5;
    const bent = rewrite(update, (structs) => {
      const overwrite = structs.find((s): s is Y.Item => s instanceof Y.Item && s.origin !== null);
      if (overwrite === undefined) throw new Error('no overwrite in the update');
      overwrite.rightOrigin = Y.createID(scratch.clientID, future);
    });
    scratch.destroy();
    sendRaw(a, bent);
    await waitFor(() => rejects(a).length > 0, 'the reject of the crafted update');
    expect(rejects(a).map((r) => [r.code, r.msgIds])).toEqual([['schema-invalid', [hidden.id]]]);

    // Nothing of it reached bob: an honest message sent after it arrives, the hidden one never does.
    const after = message('alice', 'bob', 'sent after');
    send(a, after);
    await waitFor(() => b.doc.getMap('messages').has(after.id), 'the honest message reaches bob');
    expect(b.doc.getMap('messages').has(hidden.id)).toBe(false);
    const fresh = await connect(server, path, bob.accessToken);
    expect(fresh.doc.getMap('messages').has(hidden.id)).toBe(false);
    expect(fresh.doc.getMap<Message>('messages').get(after.id)?.id).toBe(after.id);
    expect(acks(a)).toEqual([after.id]);

    // After a restart: nothing of it stored or served; the honest message stored and stamped.
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, path);
    expect(stored.getMap('messages').has(hidden.id)).toBe(false);
    expect(stored.getMap('seq').get(after.id)).toBe(1);
    expect(stored.store.pendingStructs).toBeNull();
    expect(stored.store.pendingDs).toBeNull();
    const restarted = await startServer({ dataDir: server.dataDir });
    const reader = await connect(restarted, path, bob.accessToken);
    expect(reader.doc.getMap('messages').has(hidden.id)).toBe(false);
    expect(reader.doc.getMap('messages').has(after.id)).toBe(true);
    // Two servers started, two sign-ups (scrypt) and five sockets: more than the default 20 s on a loaded 2-core box.
  }, 60_000);

  it('refuses a struct the server holds re-sent with a right origin at a future clock (Yjs resolves it even so)', async () => {
    const { a, b } = await setup();
    const first = message('alice', 'bob', 'first');
    send(a, first);
    await waitFor(() => acks(a).includes(first.id), 'ack');
    const next = message('alice', 'bob', 'next');
    const { doc: scratch, update } = craft(a, (doc) => doc.getMap('messages').set(next.id, next));
    // Everything alice holds, her first message re-sent with its right origin bent to a clock no one has reached.
    const full = rewrite(Y.mergeUpdates([Y.encodeStateAsUpdate(a.doc), update]), (structs) => {
      const held = structs.find((s): s is Y.Item => s instanceof Y.Item && s.parentSub === first.id);
      if (held === undefined) throw new Error('the first message is not in the update');
      held.rightOrigin = Y.createID(scratch.clientID, Y.getState(scratch.store, scratch.clientID) + 3);
      held.parent = null;
    });
    scratch.destroy();
    sendRaw(a, full);
    await waitFor(() => rejects(a).length > 0, 'the reject');
    expect(rejects(a)[0]).toMatchObject({ code: 'reset-required', msgIds: [next.id] });
    const after = message('alice', 'bob', 'sent after');
    send(a, after);
    await waitFor(() => b.doc.getMap('messages').has(after.id), 'the honest message reaches bob');
    expect(b.doc.getMap('messages').has(next.id)).toBe(false);
  });

  it("refuses a deletion of the sender's own future clocks, so that a recall marker written there later stays", async () => {
    const { server, path, a, b } = await setup();
    const m = message('alice', 'bob', 'to be recalled');
    send(a, m);
    await waitFor(() => acks(a).includes(m.id) && b.doc.getMap('messages').has(m.id), 'delivery');

    const next = Y.getState(a.doc.store, a.doc.clientID);
    sendRaw(a, deletion(a.doc.clientID, next, 10));
    await waitFor(() => rejects(a).length > 0, 'the reject of the pre-emptive deletion');
    expect(rejects(a).map((r) => r.code)).toEqual(['reset-required']);

    // The recall is written at exactly the clocks that deletion named.
    a.doc.transact(() => {
      a.doc.getMap('recalls').set(m.id, { by: 'alice', ts: Date.now() });
      a.doc.getMap('messages').delete(m.id);
    });
    await waitFor(() => b.doc.getMap('recalls').has(m.id) && !b.doc.getMap('messages').has(m.id), 'the recall reaches bob');
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, path);
    expect(stored.getMap('recalls').get(m.id)).toMatchObject({ by: 'alice' });
    expect(stored.store.pendingDs).toBeNull();
  });

  it("refuses a deletion of the other member's future clocks, and of a client id no one has used, as not-owner", async () => {
    const { a, b } = await setup();
    const m = message('bob', 'alice', 'from bob');
    send(b, m);
    await waitFor(() => a.doc.getMap('messages').has(m.id), 'delivery');
    sendRaw(a, deletion(b.doc.clientID, Y.getState(b.doc.store, b.doc.clientID), 5));
    sendRaw(a, deletion(424242, 0, 5));
    await waitFor(() => rejects(a).length === 2, 'both rejects');
    expect(rejects(a).map((r) => r.code)).toEqual(['not-owner', 'not-owner']);
  });
});
