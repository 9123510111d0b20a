/**
 * Bounded work per frame and the per-user write rate, against the real
 * server: updates over the byte or struct budget are refused unread
 * (`update-too-large`), writes beyond a user's bucket are refused
 * (`slow-down`, with when to try again), and nothing refused is applied,
 * stored or delivered, while honest clients go on being acked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { conversationPath, MESSAGE_CONTROL, parseControlFrame, type ControlFrame, type Message } from '@parley/protocol';
import { syncUpdateMessage } from '../src/sync/frames.ts';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, storedDoc, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';

afterEach(cleanup);

async function connect(server: TestServer, path: string, token: string, doc?: Y.Doc): Promise<Client> {
  const client = openDoc(server, path, token, doc);
  await synced(client);
  return client;
}

/** A socket that speaks raw frames, as a hostile client would. */
async function rawSocket(server: TestServer, path: string, token: string): Promise<{ ws: WebSocket; frames: ControlFrame[] }> {
  const ws = new WebSocket(`${server.wsUrl}/${path}?token=${token}`);
  const frames: ControlFrame[] = [];
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== MESSAGE_CONTROL) return;
    const frame = parseControlFrame(decoding.readVarString(decoder));
    // The limits and the peer's presence every connection hears at open are no answer to what it sent.
    if (frame !== null && frame.type !== 'limits' && frame.type !== 'peer') frames.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

/**
 * The attack of the issue: one update (Yjs v1) of `items` tiny new keys in
 * `messages`, about 22 bytes each, written byte by byte as Yjs would encode it.
 */
function manyTinyItems(items: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1); // one client section
  encoding.writeVarUint(encoder, items);
  encoding.writeVarUint(encoder, 424_242); // client id
  encoding.writeVarUint(encoder, 0); // first clock
  for (let i = 0; i < items; i++) {
    encoding.writeUint8(encoder, 0x20 | 8); // an item with a key, holding ContentAny
    encoding.writeVarUint(encoder, 1); // its parent is a root, by name
    encoding.writeVarString(encoder, 'messages');
    encoding.writeVarString(encoder, `k${i}`);
    encoding.writeVarUint(encoder, 1);
    encoding.writeAny(encoder, i % 100);
  }
  encoding.writeVarUint(encoder, 0); // no deletions
  return encoding.toUint8Array(encoder);
}

describe('the update budget', () => {
  it('refuses five 9 MB updates of 400,000 items with update-too-large, keeps none of them, and acks and delivers an honest message sent meanwhile', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const mallory = await signUp(server.url, 'mallory');
    const honestPath = conversationPath('alice', 'bob', thisSegment());
    const hostilePath = conversationPath('bob', 'mallory', thisSegment());
    const a = await connect(server, honestPath, alice.accessToken);
    const b = await connect(server, honestPath, bob.accessToken);
    const hostile = await rawSocket(server, hostilePath, mallory.accessToken);

    const tiny = manyTinyItems(400_000);
    expect(Y.decodeUpdate(manyTinyItems(3)).structs).toHaveLength(3);
    const attack = syncUpdateMessage(tiny);
    expect(attack.length).toBeGreaterThan(8_500_000);
    for (let i = 0; i < 5; i++) hostile.ws.send(attack);
    const honest = message('alice', 'bob', 'still here');
    send(a, honest);

    await waitFor(() => acks(a).includes(honest.id), 'the honest ack', 20_000);
    await waitFor(() => b.doc.getMap('messages').has(honest.id), 'the honest message at bob', 20_000);
    await waitFor(() => hostile.frames.length >= 5, 'five refusals', 20_000);
    expect(hostile.frames.map((f) => f.type === 'reject' && f.code)).toEqual(Array(5).fill('update-too-large'));
    expect(rejects(a)).toEqual([]);

    // Nothing of the attack was applied: bob's copy of that conversation is empty, and so is the stored one.
    const seen = await connect(server, hostilePath, bob.accessToken);
    expect(seen.doc.getMap('messages').size).toBe(0);
    hostile.ws.close();
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, hostilePath);
    expect(stored.getMap('messages').size).toBe(0);
    stored.destroy();
  }, 60_000);

  it('refuses an update over PARLEY_MAX_UPDATE_STRUCTS and accepts one at the limit', async () => {
    const server = await startServer({ env: { PARLEY_MAX_UPDATE_STRUCTS: '100', PARLEY_MESSAGE_BURST: '1000' } });
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const writeMany = async (n: number): Promise<{ client: Client; ids: string[] }> => {
      const client = await connect(server, path, alice.accessToken);
      const ids: string[] = [];
      client.doc.transact(() => {
        for (let i = 0; i < n; i++) {
          const m = message('alice', 'bob', `n${i}`);
          ids.push(m.id);
          send(client, m);
        }
      });
      return { client, ids };
    };
    const over = await writeMany(101);
    await waitFor(() => rejects(over.client).length > 0, 'the refusal');
    expect(rejects(over.client)[0]?.code).toBe('update-too-large');
    over.client.destroy();
    // The refusal applied nothing, so a device with a new client id may send 100.
    const at = await writeMany(100);
    await waitFor(() => acks(at.client).length === 100, 'the acks');
    expect(rejects(at.client)).toEqual([]);
  });

  it('refuses an update over PARLEY_MAX_UPDATE_BYTES before decoding it, even a malformed one', async () => {
    const server = await startServer({ env: { PARLEY_MAX_UPDATE_BYTES: String(64 * 1024) } });
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const hostile = await rawSocket(server, path, alice.accessToken);
    hostile.ws.send(syncUpdateMessage(new Uint8Array(64 * 1024 + 1).fill(0xff)));
    await waitFor(() => hostile.frames.length > 0, 'the refusal');
    expect(hostile.frames[0]).toMatchObject({ type: 'reject', code: 'update-too-large', msgIds: [] });
    hostile.ws.close();
  });
});

describe('the per-user message rate', () => {
  async function rated() {
    const server = await startServer({ env: { PARLEY_MESSAGE_RATE: '1', PARLEY_MESSAGE_BURST: '3' } });
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    return { server, alice, bob, path };
  }

  it('refuses writes beyond the burst with slow-down, applies nothing of them, and accepts them again once the bucket refills', async () => {
    const { server, alice, bob, path } = await rated();
    const a = await connect(server, path, alice.accessToken);
    const b = await connect(server, path, bob.accessToken);
    const burst = [0, 1, 2].map((i) => message('alice', 'bob', `burst ${i}`));
    for (const m of burst) send(a, m);
    await waitFor(() => burst.every((m) => acks(a).includes(m.id)), 'the burst acked');
    const extra = message('alice', 'bob', 'one too many');
    send(a, extra);
    await waitFor(() => rejects(a).length > 0, 'the refusal');
    const [refusal] = rejects(a);
    expect(refusal).toMatchObject({ code: 'slow-down', msgIds: [extra.id] });
    expect(refusal?.retryAfterMs).toBeGreaterThan(0);
    expect(refusal?.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(b.doc.getMap('messages').has(extra.id)).toBe(false);
    a.destroy();

    // Sent again (from a fresh copy, as the app does after a refusal) once the bucket has a token: accepted.
    await new Promise((resolve) => setTimeout(resolve, refusal?.retryAfterMs ?? 1000));
    const again = await connect(server, path, alice.accessToken);
    send(again, extra);
    await waitFor(() => acks(again).includes(extra.id), 'the retry acked');
    await waitFor(() => b.doc.getMap('messages').has(extra.id), 'the retry at bob');
  });

  it('counts reactions and edits too, but not receipts', async () => {
    const { server, alice, bob, path } = await rated();
    const a = await connect(server, path, alice.accessToken);
    const b = await connect(server, path, bob.accessToken);
    const m = message('alice', 'bob', 'react to me');
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'the message acked');
    await waitFor(() => b.doc.getMap('messages').has(m.id), 'the message at bob');
    // Receipts take no token: bob may write many.
    for (let seq = 1; seq <= 5; seq++) b.doc.getMap('receipts').set('bob|delivered', { user: 'bob', seq });
    a.doc.getMap('edits').set(`${m.id}|1`, { msg: m.id, from: 'alice', n: 1, text: 'edited', ts: Date.now() });
    a.doc.getMap('reactions').set(`${m.id}|alice|👍`, { msg: m.id, from: 'alice', emoji: '👍', ts: Date.now() });
    a.doc.getMap('reactions').set(`${m.id}|alice|🎉`, { msg: m.id, from: 'alice', emoji: '🎉', ts: Date.now() });
    await waitFor(() => rejects(a).length > 0, 'the refusal of the fourth write');
    expect(rejects(a)[0]?.code).toBe('slow-down');
    expect(rejects(b)).toEqual([]);
    await waitFor(() => b.frames.filter((f) => f.type === 'ack').length >= 5, 'the receipts acked');
  });

  it('lets an offline batch larger than the burst through from a full bucket, in one update', async () => {
    const { server, alice, bob, path } = await rated();
    // Written offline: the device's first sync sends them all in its step 2.
    const offline = new Y.Doc();
    const batch: Message[] = Array.from({ length: 20 }, (_, i) => message('alice', 'bob', `offline ${i}`));
    offline.transact(() => {
      for (const m of batch) offline.getMap('messages').set(m.id, m);
    });
    const a = openDoc(server, path, alice.accessToken, offline);
    await waitFor(() => batch.every((m) => acks(a).includes(m.id)), 'the batch acked');
    const b = await connect(server, path, bob.accessToken);
    expect(b.doc.getMap('messages').size).toBe(20);
    // The bucket is now in debt: the next message waits.
    const next = message('alice', 'bob', 'right after');
    send(a, next);
    await waitFor(() => rejects(a).length > 0, 'the refusal');
    expect(rejects(a)[0]).toMatchObject({ code: 'slow-down', msgIds: [next.id] });
  });

  it('does not limit messages the admin API sends as a user', async () => {
    const { server, path, bob } = await rated();
    for (let i = 0; i < 10; i++) {
      const sent = await api(server.url, 'POST', '/admin/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: `admin ${i}` }] }, server.config.adminKey);
      expect(sent.status).toBe(201);
    }
    const b = await connect(server, path, bob.accessToken);
    expect(b.doc.getMap('messages').size).toBe(10);
  });
});
