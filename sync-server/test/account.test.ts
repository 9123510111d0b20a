/**
 * Account deletion and "download my data" (issue 17), end to end: a real
 * server, real SQLite files, real y-websocket clients and real HTTP.
 * Deletion is checked the way recall.test.ts checks a recall: by reading every
 * file of the data dir for a word only the deleted user's messages held.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, conversationPath, inboxPath, prefsPath, type Element, type InboxEntry, type MediaRef, type Session } from '@parley/protocol';
import { mintAppToken } from '../src/auth/tokens.ts';
import { mediaFile } from '../src/storage/media-files.ts';
import { SqliteStorage } from '../src/storage/sqlite.ts';
import { allBytes, acks, api, cleanup, rejects, storedDoc, message, send, signUp, startServer, connected, thisSegment, waitFor, type TestServer } from './helpers.ts';
import { MediaClient } from './media-client.ts';

afterEach(cleanup);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const imageOf = (ref: MediaRef): Element => ({ type: 'image', format: 'png', original: { media: ref, width: 10, height: 10 }, thumbnail: { media: ref, width: 5, height: 5 } });

/** Alice and bob, a conversation with two texts and a photo each way; alice also keeps a draft with the word. */
async function chat(server: TestServer) {
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const a = await connected(server, path, alice.accessToken);
  const b = await connected(server, path, bob.accessToken);
  const word = `wombatword${Date.now().toString(36)}`;
  const bobWord = `dingoword${Date.now().toString(36)}`;
  const aliceBytes = randomBytes(6000);
  const bobBytes = randomBytes(7000);
  const { media: aliceRef } = await new MediaClient(server.url, alice.accessToken).upload(aliceBytes, { kind: 'image', peer: 'bob', mime: 'image/png' });
  const { media: bobRef } = await new MediaClient(server.url, bob.accessToken).upload(bobBytes, { kind: 'image', peer: 'alice', mime: 'image/png' });
  const sent = [
    message('alice', 'bob', `first secret ${word}`),
    message('alice', 'bob', '', { type: 'image', body: [imageOf(aliceRef)] }),
    message('alice', 'bob', `second secret ${word}`),
  ];
  for (const m of sent) send(a, m);
  const bobs = [message('bob', 'alice', `bob says ${bobWord}`), message('bob', 'alice', '', { type: 'image', body: [imageOf(bobRef)] })];
  for (const m of bobs) send(b, m);
  await waitFor(() => sent.every((m) => acks(a).includes(m.id)) && bobs.every((m) => acks(b).includes(m.id)), 'acks');
  await waitFor(() => sent.every((m) => b.doc.getMap('messages').has(m.id)), 'bob has them');
  const prefs = await connected(server, prefsPath('alice'), alice.accessToken);
  prefs.doc.getMap('drafts').set('bob', { text: `draft ${word}`, ts: Date.now() });
  await waitFor(() => allBytes(server.dataDir).includes(`draft ${word}`), 'the draft is stored');
  return { alice, bob, path, a, b, word, bobWord, sent, bobs, aliceBytes, bobBytes, aliceRef, bobRef };
}

async function deleteAccount(server: TestServer, token: string, body: Record<string, string>) {
  return api<{ deleted?: boolean; error?: { code: string } }>(server.url, 'DELETE', '/me', body, token);
}

describe('account deletion', () => {
  it("erases every text of the user's messages from every file of the data dir, leaves the peer's, and the peer sees them recalled", async () => {
    const server = await startServer();
    const { alice, bob, path, b, word, bobWord, sent, bobs } = await chat(server);
    const bobInbox = await connected(server, inboxPath('bob'), bob.accessToken);
    expect(allBytes(server.dataDir)).toContain(word);

    const wrong = await deleteAccount(server, alice.accessToken, { password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('bad-credentials');
    const done = await deleteAccount(server, alice.accessToken, { password: 'correct horse' });
    expect(done).toEqual({ status: 200, body: { deleted: true } });

    // Bob's device: every message of alice recalled (content gone, marker left), his own kept.
    await waitFor(() => sent.every((m) => b.doc.getMap('recalls').has(m.id) && !b.doc.getMap('messages').has(m.id)), 'bob sees them recalled');
    expect(bobs.every((m) => b.doc.getMap('messages').has(m.id))).toBe(true);
    await waitFor(() => bobInbox.doc.getMap<{ nickname: string }>('profiles').get('alice')?.nickname === 'Deleted account', 'the tombstone profile reaches bob');
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.preview).not.toContain(word);
    // No file of the data dir holds the word: not the log, the snapshots, the inboxes, the draft in alice's prefs.
    expect(allBytes(server.dataDir)).not.toContain(word);
    // A fresh load of the conversation has the markers and bob's messages, none of alice's content.
    const fresh = await connected(server, path, bob.accessToken);
    expect(sent.every((m) => fresh.doc.getMap('recalls').has(m.id) && !fresh.doc.getMap('messages').has(m.id))).toBe(true);
    expect(JSON.stringify(fresh.doc.getMap('messages').toJSON())).toContain(bobWord);
    await server.parley.close();
    expect(allBytes(server.dataDir)).not.toContain(word);
    // Snapshots may be stored compressed, where a byte search cannot see: the stored documents, decoded, hold no word either.
    for (const doc of [path, prefsPath('alice'), inboxPath('alice'), inboxPath('bob')]) {
      const stored = await storedDoc(server.dataDir, doc);
      for (const name of stored.share.keys()) expect(JSON.stringify(stored.getMap(name).toJSON())).not.toContain(word);
    }
  });

  it('refuses a new message to the deleted account (account-deleted), in a loaded conversation and after a restart', async () => {
    const server = await startServer();
    const { alice, bob, path, b } = await chat(server);
    expect((await deleteAccount(server, alice.accessToken, { password: 'correct horse' })).status).toBe(200);
    const late = message('bob', 'alice', 'are you there?');
    send(b, late);
    await waitFor(() => rejects(b).some((r) => r.msgIds.includes(late.id)), 'the refusal');
    expect(rejects(b).find((r) => r.msgIds.includes(late.id))?.code).toBe('account-deleted');
    const dataDir = server.dataDir;
    await server.parley.close();
    const again = await startServer({ dataDir });
    const session = (await api<Session>(again.url, 'POST', '/auth/signin', { user: 'bob', password: 'correct horse', device: 'b2' })).body;
    const b2 = await connected(again, path, session.accessToken);
    const later = message('bob', 'alice', 'hello?');
    send(b2, later);
    await waitFor(() => rejects(b2).some((r) => r.msgIds.includes(later.id)), 'the refusal after a restart');
    expect(rejects(b2).find((r) => r.msgIds.includes(later.id))?.code).toBe('account-deleted');
    expect(bob.user).toBe('bob');
  });

  it('signs every device out, refuses sign-in, and the id can never be signed up again nor found', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const laptop = (await api<Session>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'laptop' })).body;
    const other = await connected(server, inboxPath('alice'), laptop.accessToken);
    expect((await deleteAccount(server, alice.accessToken, { password: 'correct horse' })).status).toBe(200);
    await waitFor(() => other.closeCode === 4401, 'the other device is signed out');
    expect((await api(server.url, 'GET', '/me', undefined, laptop.accessToken)).status).toBe(401);
    expect((await api(server.url, 'POST', '/auth/refresh', { refreshToken: laptop.refreshToken, device: 'laptop' })).status).toBe(401);
    const signIn = await api<{ error: { code: string } }>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'x' });
    expect([signIn.status, signIn.body.error.code]).toEqual([401, 'bad-credentials']);
    const again = await api<{ error: { code: string; message: string } }>(server.url, 'POST', '/auth/signup', { user: 'Alice', password: 'another horse', device: 'x' });
    expect([again.status, again.body.error.code]).toEqual([409, 'account-deleted']);
    expect(again.body.error.message).toMatch(/deleted/);
    const search = await api<{ people: { id: string }[] }>(server.url, 'GET', '/people?q=alice', undefined, bob.accessToken);
    expect(search.body.people).toEqual([]);
  });

  it("deletes the user's media file from disk and keeps the peer's", async () => {
    const server = await startServer();
    const { alice, bob, aliceRef, bobRef } = await chat(server);
    const media = join(server.dataDir, 'media');
    expect(existsSync(mediaFile(media, aliceRef.hash))).toBe(true);
    expect((await deleteAccount(server, alice.accessToken, { password: 'correct horse' })).status).toBe(200);
    expect(existsSync(mediaFile(media, aliceRef.hash))).toBe(false);
    expect(existsSync(mediaFile(media, bobRef.hash))).toBe(true);
    const gone = await fetch(`${server.url}${API_PREFIX}/media/${aliceRef.hash}`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    expect(gone.status).toBe(404);
    const kept = await fetch(`${server.url}${API_PREFIX}/media/${bobRef.hash}`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    expect(kept.status).toBe(200);
  });

  it('asks an account without a password (app token) for its user id typed again', async () => {
    const server = await startServer({ env: { PARLEY_APP_SECRET: 'an app secret that is long enough for tests' } });
    const secret = 'an app secret that is long enough for tests';
    const carol = (await api<Session>(server.url, 'POST', '/auth/app-token', { appToken: await mintAppToken(secret, 'carol'), device: 'phone' })).body;
    const wrong = await deleteAccount(server, carol.accessToken, { confirm: 'carl' });
    expect([wrong.status, wrong.body.error?.code]).toEqual([400, 'confirmation-mismatch']);
    expect((await deleteAccount(server, carol.accessToken, { confirm: 'carol' })).status).toBe(200);
    const back = await api<{ error: { code: string } }>(server.url, 'POST', '/auth/app-token', { appToken: await mintAppToken(secret, 'carol'), device: 'phone' });
    expect([back.status, back.body.error.code]).toEqual([409, 'account-deleted']);
  });

  it('finishes an interrupted erasure at the next start', async () => {
    const server = await startServer();
    const { alice, path, sent } = await chat(server);
    const dataDir = server.dataDir;
    await server.parley.close();
    // A deletion cut short: the tombstone is made, the erasure never ran (as after a crash right after it).
    const storage = await SqliteStorage.open(join(dataDir, 'parley.db'));
    await storage.deleteUser(alice.user, Date.now());
    expect(await storage.deletingUsers()).toEqual(['alice']);
    await storage.close();
    const again = await startServer({ dataDir });
    const bob = (await api<Session>(again.url, 'POST', '/auth/signin', { user: 'bob', password: 'correct horse', device: 'b2' })).body;
    const b = await connected(again, path, bob.accessToken);
    await waitFor(() => sent.every((m) => b.doc.getMap('recalls').has(m.id) && !b.doc.getMap('messages').has(m.id)), 'the erasure resumed');
    await again.parley.close();
    const after = await SqliteStorage.open(join(dataDir, 'parley.db'));
    expect(await after.deletingUsers()).toEqual([]);
    await after.close();
  });
});

describe('download my data', () => {
  it('streams one zip with the messages, the profile, the contacts and the bytes of the media the user sent', async () => {
    const server = await startServer();
    const { alice, word, bobWord, sent, aliceBytes, aliceRef } = await chat(server);
    const response = await fetch(`${server.url}${API_PREFIX}/me/export`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="parley-alice-\d{4}-\d\d-\d\d\.zip"$/);
    const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
    const messages = JSON.parse(strFromU8(files['messages.json'] ?? new Uint8Array())) as { conversations: { peer: string; messages: { id: string; seq: number; from: string; body?: { text?: string }[] }[] }[] };
    const withBob = messages.conversations.find((c) => c.peer === 'bob');
    expect(withBob?.messages.map((m) => m.id)).toEqual(expect.arrayContaining(sent.map((m) => m.id)));
    expect(withBob?.messages.length).toBe(5);
    const texts = JSON.stringify(withBob);
    expect(texts).toContain(word);
    expect(texts).toContain(bobWord);
    expect(withBob?.messages.map((m) => m.seq)).toEqual([...(withBob?.messages.map((m) => m.seq) ?? [])].sort((x, y) => x - y));
    expect(JSON.parse(strFromU8(files['profile.json'] ?? new Uint8Array()))).toMatchObject({ id: 'alice', nickname: 'alice' });
    expect(JSON.parse(strFromU8(files['contacts.json'] ?? new Uint8Array()))).toMatchObject({ friends: [], blocked: [] });
    const photo = files[`media/${aliceRef.hash}.png`];
    expect(photo).toBeDefined();
    expect(sha256(photo ?? new Uint8Array())).toBe(sha256(aliceBytes));
    // Only the media alice sent: bob's photo is not hers to take.
    expect(Object.keys(files).filter((name) => name.startsWith('media/'))).toEqual([`media/${aliceRef.hash}.png`]);
  });

  it('is rate-limited per user (PARLEY_EXPORTS_PER_USER), with Retry-After', async () => {
    const server = await startServer({ env: { PARLEY_EXPORTS_PER_USER: '2' } });
    const alice = await signUp(server.url, 'alice');
    const get = () => fetch(`${server.url}${API_PREFIX}/me/export`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    for (let i = 0; i < 2; i++) {
      const ok = await get();
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate-limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
