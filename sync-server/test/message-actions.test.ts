/**
 * Message actions (issue 17) against a real server with real sockets: the new
 * roots each write goes through — prefs `hidden` and `starred` (delete for me,
 * stars), the conversation's `pins`, a message marked `forwarded` whose media
 * is the original's (no bytes sent again), and receipts carrying their time.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath, prefsPath, type Element, type MediaRef, type Message, type Session } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { getMedia, MediaClient } from './media-client.ts';

afterEach(cleanup);

async function connect(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

/** Sends `m` over `client` and answers `ok` (acked) or the reject code. */
async function outcome(client: Client, m: Message): Promise<string> {
  send(client, m);
  await waitFor(() => acks(client).includes(m.id) || rejects(client).some((r) => r.msgIds.includes(m.id)), `answer to ${m.id}`);
  return acks(client).includes(m.id) ? 'ok' : (rejects(client).find((r) => r.msgIds.includes(m.id))?.code ?? 'none');
}

/** Writes into one root of the client's document and answers `ok` once the server holds it there, or the reject code. */
async function write(client: Client, check: () => boolean, change: () => void): Promise<string> {
  const before = rejects(client).length;
  change();
  await waitFor(() => check() || rejects(client).length > before, 'an answer');
  return rejects(client).length > before ? (rejects(client).at(-1)?.code ?? 'none') : 'ok';
}

const imageOf = (ref: MediaRef): Element => ({ type: 'image', format: 'png', original: { media: ref, width: 10, height: 10 }, thumbnail: { media: ref, width: 5, height: 5 } });

describe('delete for me and stars (prefs hidden, starred)', () => {
  it("reaches the owner's other device, and the server refuses a key that is not a message id", async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const laptop = (await api<Session>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'laptop' })).body;
    const phone = await connect(server, prefsPath('alice'), alice.accessToken);
    const other = await connect(server, prefsPath('alice'), laptop.accessToken);
    phone.doc.getMap('hidden').set('m1', { peer: 'bob', ts: Date.now() });
    phone.doc.getMap('starred').set('m2', { peer: 'bob', ts: Date.now() });
    await waitFor(() => other.doc.getMap('hidden').has('m1') && other.doc.getMap('starred').has('m2'), 'the other device sees both');
    const code = await write(phone, () => false, () => phone.doc.getMap('hidden').set('not a message id!', { peer: 'bob', ts: Date.now() }));
    expect(code).toBe('schema-invalid');
    const fresh = await connect(server, prefsPath('alice'), alice.accessToken);
    expect(fresh.doc.getMap('hidden').has('not a message id!')).toBe(false);
    expect(fresh.doc.getMap('hidden').get('m1')).toMatchObject({ peer: 'bob' });
  });

  it('refuses hiding more messages than PARLEY_MAX_MARKED_MESSAGES with prefs-full, and takes one after an unhide', async () => {
    const server = await startServer({ env: { PARLEY_MAX_MARKED_MESSAGES: '3' } });
    const alice = await signUp(server.url, 'alice');
    const a = await connect(server, prefsPath('alice'), alice.accessToken);
    const hidden = a.doc.getMap('hidden');
    a.doc.transact(() => {
      for (const id of ['m1', 'm2', 'm3']) hidden.set(id, { peer: 'bob', ts: Date.now() });
    });
    const fresh = await connect(server, prefsPath('alice'), alice.accessToken);
    await waitFor(() => fresh.doc.getMap('hidden').size === 3, 'three hidden on the server');
    expect(await write(fresh, () => false, () => fresh.doc.getMap('hidden').set('m4', { peer: 'bob', ts: Date.now() }))).toBe('prefs-full');
    // Stars are counted apart; an unhide makes room.
    const b = await connect(server, prefsPath('alice'), alice.accessToken);
    const watcher = await connect(server, prefsPath('alice'), alice.accessToken);
    expect(await write(b, () => watcher.doc.getMap('starred').has('m1'), () => b.doc.getMap('starred').set('m1', { peer: 'bob', ts: Date.now() }))).toBe('ok');
    expect(await write(b, () => !watcher.doc.getMap('hidden').has('m1'), () => b.doc.getMap('hidden').delete('m1'))).toBe('ok');
    expect(await write(b, () => watcher.doc.getMap('hidden').has('m4'), () => b.doc.getMap('hidden').set('m4', { peer: 'bob', ts: Date.now() }))).toBe('ok');
  });

  it('refuses a star without its conversation, and one dated far ahead', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const a = await connect(server, prefsPath('alice'), alice.accessToken);
    expect(await write(a, () => false, () => a.doc.getMap('starred').set('m1', { ts: Date.now() }))).toBe('schema-invalid');
    const b = await connect(server, prefsPath('alice'), alice.accessToken);
    expect(await write(b, () => false, () => b.doc.getMap('starred').set('m1', { peer: 'bob', ts: Date.now() + 3600_000 }))).toBe('ts-out-of-range');
  });
});

describe('pins in a conversation', () => {
  it("takes either member's pin, shows it to the other, and refuses a pin under the other's key or of no message", async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = await connect(server, path, alice.accessToken);
    const m = message('alice', 'bob', 'pin me');
    expect(await outcome(a, m)).toBe('ok');
    const b = await connect(server, path, bob.accessToken);
    await waitFor(() => b.doc.getMap('messages').has(m.id), 'the message reaches bob');
    b.doc.getMap('pins').set(`${m.id}|bob`, { msg: m.id, from: 'bob', ts: Date.now() });
    await waitFor(() => a.doc.getMap('pins').has(`${m.id}|bob`), "alice sees bob's pin");
    expect(await write(a, () => false, () => a.doc.getMap('pins').set(`${m.id}|bob`, { msg: m.id, from: 'alice', ts: Date.now() }))).toBe('not-owner');
    const a2 = await connect(server, path, alice.accessToken);
    expect(await write(a2, () => false, () => a2.doc.getMap('pins').set('nothing|alice', { msg: 'nothing', from: 'alice', ts: Date.now() }))).toBe('message-not-found');
    // Unpin: bob deletes his own item, and alice's copy loses it.
    b.doc.getMap('pins').delete(`${m.id}|bob`);
    await waitFor(() => !a2.doc.getMap('pins').has(`${m.id}|bob`), 'the unpin reaches alice');
  });
});

describe('forward', () => {
  it('lets the new peer read a forwarded message\'s media with no bytes sent again, and grants nothing for a hash the forwarder may not read', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const carol = await signUp(server.url, 'carol');
    const dave = await signUp(server.url, 'dave');
    const { media: ref } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(8000), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const ab = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    expect(await outcome(ab, message('alice', 'bob', '', { type: 'image', body: [imageOf(ref)] }))).toBe('ok');
    expect((await getMedia(server.url, ref.hash, { token: carol.accessToken })).status).toBe(404);

    // Bob, who received it, forwards it to carol: no upload, the same reference.
    const bobMedia = new MediaClient(server.url, bob.accessToken);
    const bc = await connect(server, conversationPath('bob', 'carol', thisSegment()), bob.accessToken);
    const forwarded = message('bob', 'carol', '', { type: 'image', body: [imageOf(ref)], forwarded: true });
    expect(await outcome(bc, forwarded)).toBe('ok');
    expect(bobMedia.sent).toBe(0);
    expect((await getMedia(server.url, ref.hash, { token: carol.accessToken })).status).toBe(200);
    const c = await connect(server, conversationPath('bob', 'carol', thisSegment()), carol.accessToken);
    expect(c.doc.getMap<Message>('messages').get(forwarded.id)).toMatchObject({ forwarded: true, body: [imageOf(ref)] });

    // Dave, who may not read it, names the hash in a "forward" to carol: stored, but carol is not granted it through him,
    // and dave's own new peer (alice's hash, dave–bob) reads nothing.
    const { media: secret } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(4000), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const db = await connect(server, conversationPath('bob', 'dave', thisSegment()), dave.accessToken);
    expect(await outcome(db, message('dave', 'bob', '', { type: 'image', body: [imageOf(secret)], forwarded: true }))).toBe('ok');
    expect((await getMedia(server.url, secret.hash, { token: bob.accessToken })).status).toBe(404);
    expect((await getMedia(server.url, secret.hash, { token: dave.accessToken })).status).toBe(404);
  });
});

describe('receipts with their time', () => {
  it("keeps the writer's time in a receipt, for the sender's message info", async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = await connect(server, path, alice.accessToken);
    expect(await outcome(a, message('alice', 'bob', 'when did you read this?'))).toBe('ok');
    const b = await connect(server, path, bob.accessToken);
    const ts = Date.now();
    b.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 1, ts });
    await waitFor(() => (a.doc.getMap<{ ts?: number }>('receipts').get('bob|read')?.ts ?? 0) === ts, 'alice sees the time');
  });
});
