/**
 * Messages and data against a hostile user (issue 12): silent blocking, messages
 * to ids nobody holds, forged times, avatars pointing elsewhere, and media that
 * outlives its recall. Real server, real SQLite, real y-websocket clients.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES, conversationPath, inboxPath, LIMITS, mediaUrl, segmentOf, type Element, type InboxEntry, type MediaRef } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { getMedia, MediaClient } from './media-client.ts';

afterEach(cleanup);

const adminOf = (server: TestServer) => <T = unknown>(method: string, path: string, body?: unknown) =>
  api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);

async function setup(env: Record<string, string> = {}) {
  const server = await startServer({ env });
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  return { server, admin: adminOf(server), alice, bob };
}

async function connect(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

/** Sends `m` over `client` and answers `ok` (acked) or the reject code. */
async function outcome(client: Client, m: ReturnType<typeof message>): Promise<string> {
  send(client, m);
  await waitFor(() => acks(client).includes(m.id) || rejects(client).some((r) => r.msgIds.includes(m.id)), `answer to ${m.id}`);
  return acks(client).includes(m.id) ? 'ok' : (rejects(client).find((r) => r.msgIds.includes(m.id))?.code ?? 'none');
}

/** Polls an async condition until it holds (a deadline, no fixed sleep). */
async function eventually(condition: () => Promise<boolean>, what: string, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const imageOf = (ref: MediaRef): Element => ({ type: 'image', format: 'png', original: { media: ref, width: 10, height: 10 }, thumbnail: { media: ref, width: 5, height: 5 } });

describe('blocking is silent by default', () => {
  it("acks a blocked sender's message as sent, never stores or delivers it, and previews it only in the sender's inbox", async () => {
    const { server, admin, alice, bob } = await setup();
    expect((await admin<{ blocklistMode: string }>('GET', '/settings')).body.blocklistMode).toBe('silent');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = await connect(server, path, alice.accessToken);
    const first = message('alice', 'bob', 'before the block');
    expect(await outcome(a, first)).toBe('ok');
    expect((await api(server.url, 'PUT', '/blocklist/alice', undefined, bob.accessToken)).status).toBe(200);

    const b = await connect(server, path, bob.accessToken);
    const bobInbox = await connect(server, inboxPath('bob'), bob.accessToken);
    const aliceInbox = await connect(server, inboxPath('alice'), alice.accessToken);
    const dropped = message('alice', 'bob', 'after the block');
    // Acked like any message: no reject frame, no code that says "blocked".
    expect(await outcome(a, dropped)).toBe('ok');
    expect(rejects(a)).toEqual([]);
    // The sender's other devices see it in their conversation list, as for a message that went.
    await waitFor(() => aliceInbox.doc.getMap<InboxEntry>('conversations').get('bob')?.last?.id === dropped.id, "the sender's inbox preview");
    expect(aliceInbox.doc.getMap<InboxEntry>('conversations').get('bob')?.last?.preview).toBe('after the block');
    // Nothing of it reaches the recipient, the shared document or the history.
    expect(b.doc.getMap('messages').has(dropped.id)).toBe(false);
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.id).toBe(first.id);
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.unread).toBe(1);
    const history = await admin<{ messages: { id: string }[] }>('GET', '/history?a=alice&b=bob');
    expect(history.body.messages.map((m) => m.id)).toEqual([first.id]);
    // A fresh device of alice syncing the conversation finds only what was stored.
    const laptop = await connect(server, path, alice.accessToken);
    expect(laptop.doc.getMap('messages').has(dropped.id)).toBe(false);
  });

  it('still tells a blocked sender with the blocked code when the install is set to reject', async () => {
    const { server, admin, alice, bob } = await setup();
    expect((await admin('PUT', '/settings', { blocklistMode: 'reject' })).status).toBe(200);
    await api(server.url, 'PUT', '/blocklist/alice', undefined, bob.accessToken);
    const a = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    expect(await outcome(a, message('alice', 'bob', 'hello?'))).toBe('blocked');
  });
});

describe('messages to a user id that does not exist', () => {
  it('refuses opening a conversation with an id nobody holds with user-not-found, before any sync frame', async () => {
    const { server, alice } = await setup();
    const client = openDoc(server, conversationPath('alice', 'ghost', thisSegment()), alice.accessToken);
    await waitFor(() => client.closeCode !== null, 'close');
    expect(client.closeCode).toBe(CLOSE_CODES.forbidden);
    expect(client.frames[0]).toMatchObject({ type: 'refused', code: 'user-not-found' });
    expect(client.syncFrames).toBe(0);
  });

  it("leaves nothing for a future account: the id signed up later finds an empty inbox and no conversation", async () => {
    const { server, admin, alice } = await setup();
    const client = openDoc(server, conversationPath('alice', 'ghost', thisSegment()), alice.accessToken);
    send(client, message('alice', 'ghost', 'are you there?'));
    await waitFor(() => client.closeCode !== null, 'close');
    // The admin API refuses it too.
    const sent = await admin<{ error: { code: string } }>('POST', '/messages', { from: 'alice', to: 'ghost', body: [{ type: 'text', text: 'hi' }] });
    expect([sent.status, sent.body.error.code]).toEqual([404, 'user-not-found']);
    client.destroy();

    const ghost = await signUp(server.url, 'ghost');
    const inbox = await connect(server, inboxPath('ghost'), ghost.accessToken);
    expect(inbox.doc.getMap('conversations').size).toBe(0);
    const conv = await connect(server, conversationPath('alice', 'ghost', thisSegment()), ghost.accessToken);
    expect(conv.doc.getMap('messages').size).toBe(0);
    expect((await admin<{ messages: unknown[] }>('GET', '/history?a=alice&b=ghost')).body.messages).toEqual([]);
  });

  it('opens a conversation with a user that exists, once signed up', async () => {
    const { server, alice } = await setup();
    await signUp(server.url, 'carol');
    const a = await connect(server, conversationPath('alice', 'carol', thisSegment()), alice.accessToken);
    expect(await outcome(a, message('alice', 'carol', 'hi carol'))).toBe('ok');
  });
});

describe("a message's time", () => {
  it('refuses a message dated more than 5 minutes ahead of the server with ts-out-of-range', async () => {
    const { server, alice } = await setup();
    const ts = Date.now() + 10 * 60_000;
    const a = await connect(server, conversationPath('alice', 'bob', segmentOf(ts)), alice.accessToken);
    expect(await outcome(a, message('alice', 'bob', 'from the future', { ts }))).toBe('ts-out-of-range');
  });

  it('refuses a message older than 30 days with ts-out-of-range, and takes one written offline a day ago', async () => {
    const { server, alice } = await setup();
    const old = Date.now() - 31 * 24 * 3600_000;
    const a = await connect(server, conversationPath('alice', 'bob', segmentOf(old)), alice.accessToken);
    expect(await outcome(a, message('alice', 'bob', 'ancient', { ts: old }))).toBe('ts-out-of-range');
    const dayAgo = Date.now() - 24 * 3600_000;
    const y = await connect(server, conversationPath('alice', 'bob', segmentOf(dayAgo)), alice.accessToken);
    expect(await outcome(y, message('alice', 'bob', 'written offline yesterday', { ts: dayAgo }))).toBe('ok');
  });

  it('follows PARLEY_MAX_CLOCK_SKEW_MS and PARLEY_MAX_MESSAGE_AGE_MS', async () => {
    const { server, alice } = await setup({ PARLEY_MAX_CLOCK_SKEW_MS: '1000', PARLEY_MAX_MESSAGE_AGE_MS: '60000' });
    const ahead = Date.now() + 60_000;
    const a = await connect(server, conversationPath('alice', 'bob', segmentOf(ahead)), alice.accessToken);
    expect(await outcome(a, message('alice', 'bob', 'a minute ahead', { ts: ahead }))).toBe('ts-out-of-range');
    const behind = Date.now() - 120_000;
    const b = await connect(server, conversationPath('alice', 'bob', segmentOf(behind)), alice.accessToken);
    expect(await outcome(b, message('alice', 'bob', 'two minutes old', { ts: behind }))).toBe('ts-out-of-range');
  });

  it('refuses a reaction dated in the future with ts-out-of-range', async () => {
    const { server, alice, bob } = await setup();
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = await connect(server, path, alice.accessToken);
    const m = message('alice', 'bob', 'react to me');
    expect(await outcome(a, m)).toBe('ok');
    const b = await connect(server, path, bob.accessToken);
    await waitFor(() => b.doc.getMap('messages').has(m.id), 'message reaches bob');
    b.doc.getMap('reactions').set(`${m.id}|bob|👍`, { msg: m.id, from: 'bob', emoji: '👍', ts: Date.now() + 3600_000 });
    await waitFor(() => rejects(b).length > 0, 'reject');
    expect(rejects(b)[0]?.code).toBe('ts-out-of-range');
  });

  it('lets the admin import history and send with an explicit old time', async () => {
    const { admin } = await setup();
    const old = Date.now() - 400 * 24 * 3600_000;
    const imported = await admin<{ imported: number }>('POST', '/messages/import', {
      messages: [{ id: 'old1', from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: 'a year ago' }], ts: old }],
      live: false,
    });
    expect([imported.status, imported.body.imported]).toEqual([200, 1]);
    const sent = await admin('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: 'dated' }], ts: old + 1000 });
    expect(sent.status).toBe(201);
  });
});

describe('avatars', () => {
  it('refuses an avatar that is not an image uploaded to Parley with avatar-invalid', async () => {
    const { server, alice, bob } = await setup();
    const patch = (avatar: string, token = alice.accessToken) => api<{ error?: { code: string } }>(server.url, 'PATCH', '/me', { avatar }, token);
    for (const avatar of ['https://tracker.example/pixel.png', 'data:image/png;base64,iVBORw0KGgo=', '//evil.example/a.png', `${mediaUrl('0'.repeat(64))}`, '/api/v1/media/../admin']) {
      const answer = await patch(avatar);
      expect([avatar, answer.status, answer.body.error?.code]).toEqual([avatar, 400, 'avatar-invalid']);
    }
    // Bob's upload is not alice's to use (she may not read it).
    const { url: bobs } = await new MediaClient(server.url, bob.accessToken).upload(randomBytes(64), { kind: 'image', peer: 'alice', mime: 'image/png' });
    expect((await patch(bobs)).body.error?.code).toBe('avatar-invalid');
    expect((await api<{ avatar?: string }>(server.url, 'GET', '/me', undefined, alice.accessToken)).body.avatar).toBeUndefined();
  });

  it("takes the user's own upload as avatar, and anyone signed in may then load it", async () => {
    const { server, alice, bob } = await setup();
    const carol = await signUp(server.url, 'carol');
    const { media: ref, url } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(64), { kind: 'image', peer: 'bob', mime: 'image/png' });
    expect((await getMedia(server.url, ref.hash, { token: carol.accessToken })).status).toBe(404);
    const set = await api<{ avatar?: string }>(server.url, 'PATCH', '/me', { avatar: url }, alice.accessToken);
    expect([set.status, set.body.avatar]).toEqual([200, url]);
    expect((await api<{ avatar?: string }>(server.url, 'GET', '/users/alice', undefined, bob.accessToken)).body.avatar).toBe(url);
    expect((await getMedia(server.url, ref.hash, { token: carol.accessToken })).status).toBe(200);
  });

  it('refuses an external avatar in the admin account import', async () => {
    const { admin } = await setup();
    const imported = await admin<{ error: { code: string } }>('POST', '/accounts', { accounts: [{ id: 'dan', avatar: 'https://x.example/d.png' }] });
    expect([imported.status, imported.body.error.code]).toEqual([400, 'avatar-invalid']);
  });

  it("refuses a message whose profile names an external avatar with avatar-invalid", async () => {
    const { server, alice } = await setup();
    const a = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    const m = message('alice', 'bob', 'look at me', { profile: { nickname: 'alice', avatar: 'https://tracker.example/p.png' } });
    expect(await outcome(a, m)).toBe('avatar-invalid');
  });

  it('no longer serves an avatar of another form stored before the rule', async () => {
    const { server, bob } = await setup();
    const db = new Database(join(server.dataDir, 'parley.db'));
    db.prepare("UPDATE users SET avatar = 'https://old.example/a.png' WHERE id = 'alice'").run();
    db.close();
    const profile = await api<{ id: string; nickname: string; avatar?: string }>(server.url, 'GET', '/users/alice', undefined, bob.accessToken);
    expect(profile.body).toEqual({ id: 'alice', nickname: 'alice' });
  });
});

describe('a recall revokes access to its media', () => {
  async function sendImage(server: TestServer, client: Client, ref: MediaRef): Promise<string> {
    const m = message('alice', 'bob', '', { type: 'image', body: [imageOf(ref)] });
    expect(await outcome(client, m)).toBe('ok');
    return m.id;
  }

  it("gives the peer media-not-found after the sender's recall, while the sender keeps it", async () => {
    const { server, alice, bob } = await setup();
    const { media: ref } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(200), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const a = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    const id = await sendImage(server, a, ref);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(200);

    a.doc.transact(() => {
      a.doc.getMap('recalls').set(id, { by: 'alice', ts: Date.now() });
      a.doc.getMap('messages').delete(id);
    });
    await waitFor(() => a.frames.filter((f) => f.type === 'ack').length >= 2, 'recall acked');
    await eventually(async () => (await getMedia(server.url, ref.hash, { token: bob.accessToken })).status === 404, "bob's access revoked");
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).json?.error?.code).toBe('media-not-found');
    expect((await getMedia(server.url, ref.hash, { token: alice.accessToken })).status).toBe(200);
  });

  it('keeps the peer’s access while another message of the conversation still holds the media', async () => {
    const { server, admin, alice, bob } = await setup();
    const { media: ref } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(200), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const a = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    const first = await sendImage(server, a, ref);
    await sendImage(server, a, ref);
    // The admin recall is done when it answers.
    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: first })).status).toBe(200);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(200);
  });

  it('revokes on an admin recall too', async () => {
    const { server, admin, alice, bob } = await setup();
    const { media: ref } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(200), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const a = await connect(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    const id = await sendImage(server, a, ref);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(200);
    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id })).status).toBe(200);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(404);
    expect((await getMedia(server.url, ref.hash, { token: alice.accessToken })).status).toBe(200);
  });
});

describe('captions and waveforms (issue 17)', () => {
  it('refuses a caption over LIMITS.captionLength and a waveform over LIMITS.waveformLevels with schema-invalid, and takes them at the caps', async () => {
    const { server, alice, bob } = await setup();
    const media = new MediaClient(server.url, alice.accessToken);
    const { media: picture } = await media.upload(randomBytes(200), { kind: 'image', peer: 'bob', mime: 'image/webp' });
    const { media: voice } = await media.upload(randomBytes(300), { kind: 'voice', peer: 'bob', mime: 'audio/webm' });
    const path = conversationPath('alice', 'bob', thisSegment());
    // A fresh client per message: a refused write stays in the client's own copy.
    const sendOne = async (body: Element[]): Promise<string> => outcome(await connect(server, path, alice.accessToken), message('alice', 'bob', '', { type: body[0]?.type ?? 'text', body }));
    const captioned = (caption: string): Element => ({ ...imageOf(picture), caption }) as Element;
    const recorded = (waveform: number[]): Element => ({ type: 'voice', media: voice, duration: 2, format: 'webm', waveform });

    expect(await sendOne([captioned('x'.repeat(LIMITS.captionLength + 1))])).toBe('schema-invalid');
    expect(await sendOne([recorded(Array.from({ length: LIMITS.waveformLevels + 1 }, () => 128))])).toBe('schema-invalid');
    expect(await sendOne([recorded([12, 300])])).toBe('schema-invalid');
    expect(await sendOne([captioned('x'.repeat(LIMITS.captionLength))])).toBe('ok');
    expect(await sendOne([recorded(Array.from({ length: LIMITS.waveformLevels }, (_, i) => i * 4))])).toBe('ok');

    // Bob gets the two that passed, caption and waveform whole.
    const b = await connect(server, path, bob.accessToken);
    await waitFor(() => b.doc.getMap('messages').size === 2, 'both messages at bob');
    const bodies = [...b.doc.getMap<{ body: Element[] }>('messages').values()].map((m) => m.body[0]);
    expect(bodies.map((e) => (e?.type === 'image' ? e.caption?.length : e?.type === 'voice' ? e.waveform?.length : 0)).sort()).toEqual([LIMITS.captionLength, LIMITS.waveformLevels].sort());
  });
});
