/** The admin API, each endpoint against a real server, real SQLite and real clients. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath, inboxPath, type InboxEntry, type Message } from '@parley/protocol';
import { api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor, type TestServer } from './helpers.ts';
import { MediaClient } from './media-client.ts';

afterEach(cleanup);

const adminOf = (server: TestServer) => <T = unknown>(method: string, path: string, body?: unknown) =>
  api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);

async function setup() {
  const server = await startServer();
  const admin = adminOf(server);
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  return { server, admin, alice, bob };
}

describe('admin API', () => {
  it('refuses a request without the admin key or with a user token, and takes X-Admin-Key', async () => {
    const { server, alice } = await setup();
    expect((await api(server.url, 'GET', '/admin/settings')).status).toBe(401);
    const asUser = await api<{ error: { code: string } }>(server.url, 'GET', '/admin/settings', undefined, alice.accessToken);
    expect(asUser.status).toBe(403);
    expect(asUser.body.error.code).toBe('admin-required');
    const byHeader = await fetch(`${server.url}/api/v1/admin/settings`, { headers: { 'x-admin-key': server.config.adminKey } });
    expect(byHeader.status).toBe(200);
  });

  it('reads and changes settings', async () => {
    const { admin } = await setup();
    expect((await admin('GET', '/settings')).body).toEqual({ messaging: 'open', blocklistMode: 'silent', blockKeepsFriendship: false });
    expect((await admin('PUT', '/settings', { messaging: 'friends' })).body).toEqual({ messaging: 'friends', blocklistMode: 'silent', blockKeepsFriendship: false });
    expect((await admin<{ error: { code: string } }>('PUT', '/settings', { messaging: 'nobody' })).body.error.code).toBe('bad-request');
  });

  it('imports accounts with nickname and avatar, at most 100 per call', async () => {
    const { server, admin, alice } = await setup();
    // An avatar is an image uploaded to this server (here by alice, for the admin to name).
    const { url: avatar } = await new MediaClient(server.url, alice.accessToken).upload(randomBytes(100), { kind: 'image', peer: 'bob', mime: 'image/png' });
    const imported = await admin('POST', '/accounts', { accounts: [{ id: 'carol', nickname: 'Carol', avatar }, { id: 'alice' }] });
    expect(imported.body).toEqual({ created: ['carol'], existing: ['alice'] });
    expect((await api(server.url, 'GET', '/users/carol', undefined, alice.accessToken)).body).toEqual({ id: 'carol', nickname: 'Carol', avatar });
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ id: `u${i}` }));
    expect((await admin('POST', '/accounts', { accounts: tooMany })).status).toBe(400);
  });

  it('sends as a user: stamped, stored, delivered and counted like a client message', async () => {
    const { server, admin, bob } = await setup();
    const conv = openDoc(server, conversationPath('alice', 'bob', thisSegment()), bob.accessToken);
    const inbox = openDoc(server, inboxPath('bob'), bob.accessToken);
    await Promise.all([synced(conv), synced(inbox)]);
    const sent = await admin<{ id: string; seq: number }>('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: 'from the admin' }] });
    expect(sent.status).toBe(201);
    await waitFor(() => conv.doc.getMap('messages').has(sent.body.id), 'delivery');
    const m = conv.doc.getMap<Message>('messages').get(sent.body.id);
    expect(m?.from).toBe('alice');
    expect(conv.doc.getMap<number>('seq').get(sent.body.id)).toBe(sent.body.seq);
    await waitFor(() => inbox.doc.getMap<InboxEntry>('conversations').get('alice')?.unread === 1, 'inbox count');
    // The same id twice is refused.
    expect((await admin('POST', '/messages', { from: 'alice', to: 'bob', id: sent.body.id, body: [{ type: 'text', text: 'again' }] })).status).toBe(409);
    expect((await admin('POST', '/messages', { from: 'alice', to: 'nobody', body: [{ type: 'text', text: 'x' }] })).status).toBe(404);
  });

  it('leaves the sender\'s inbox alone when syncToSender is false', async () => {
    const { server, admin, alice } = await setup();
    const inbox = openDoc(server, inboxPath('alice'), alice.accessToken);
    await synced(inbox);
    await admin('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: 'quiet' }], syncToSender: false });
    await admin('POST', '/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text: 'marker' }] });
    await waitFor(() => inbox.doc.getMap<InboxEntry>('conversations').get('bob') !== undefined, 'inbox entry');
    expect(inbox.doc.getMap<InboxEntry>('conversations').get('bob')?.last?.preview).toBe('marker');
    expect(inbox.doc.getMap<InboxEntry>('conversations').get('bob')?.lastSeq).toBe(2);
  });

  it('batch-sends to up to 500 users, reporting each', async () => {
    const { admin } = await setup();
    await admin('POST', '/accounts', { accounts: [{ id: 'carol' }] });
    const batch = await admin<{ results: { to: string; seq?: number; error?: string }[] }>('POST', '/messages/batch', {
      from: 'alice',
      to: ['bob', 'carol', 'nobody'],
      body: [{ type: 'text', text: 'news' }],
    });
    expect(batch.body.results.map((r) => [r.to, r.seq ?? r.error])).toEqual([['bob', 1], ['carol', 1], ['nobody', 'user-not-found']]);
    const tooMany = Array.from({ length: 501 }, (_, i) => `u${i}`);
    expect((await admin('POST', '/messages/batch', { from: 'alice', to: tooMany, body: [{ type: 'text', text: 'x' }] })).status).toBe(400);
  });

  it('sends system notices, which clients may not write', async () => {
    const { server, admin, bob } = await setup();
    const sent = await admin<{ results: { id: string }[] }>('POST', '/notifications', { from: 'alice', to: ['bob'], kind: 'custom', title: 'Hello', text: 'Welcome' });
    const id = sent.body.results[0]?.id ?? '';
    const conv = openDoc(server, conversationPath('alice', 'bob', thisSegment()), bob.accessToken);
    await synced(conv);
    await waitFor(() => conv.doc.getMap('messages').has(id), 'notice');
    expect(conv.doc.getMap<Message>('messages').get(id)).toMatchObject({ type: 'system', body: [{ type: 'system', kind: 'custom', title: 'Hello', text: 'Welcome' }] });
    const forged = message('bob', 'alice', 'x', { type: 'system', body: [{ type: 'system', kind: 'friend-added', text: 'fake' }] });
    send(conv, forged);
    await waitFor(() => rejects(conv).length > 0, 'reject');
    expect(rejects(conv)[0]?.code).toBe('system-reserved');
  });

  it('exports a pair\'s history paged by cursor, and recalls a message leaving a marker', async () => {
    const { server, admin, bob } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await admin<{ id: string }>('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: `m${i}` }] })).body.id);
    type Page = { messages: { id: string; seq: number; message: Message | null; recalled: unknown }[]; next: number | null; complete: boolean };
    const first = await admin<Page>('GET', '/history?a=alice&b=bob&limit=3');
    expect(first.body.messages.map((m) => m.id)).toEqual(ids.slice(0, 3));
    expect(first.body).toMatchObject({ next: 3, complete: false });
    const second = await admin<Page>('GET', `/history?a=alice&b=bob&limit=3&cursor=${first.body.next}`);
    expect(second.body.messages.map((m) => m.id)).toEqual(ids.slice(3));
    expect(second.body).toMatchObject({ next: null, complete: true });
    expect(second.body.messages[0]?.message?.body).toEqual([{ type: 'text', text: 'm3' }]);

    const conv = openDoc(server, conversationPath('alice', 'bob', thisSegment()), bob.accessToken);
    await synced(conv);
    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: ids[1] })).status).toBe(200);
    await waitFor(() => !conv.doc.getMap('messages').has(ids[1] ?? ''), 'recall on the device');
    expect(conv.doc.getMap('recalls').get(ids[1] ?? '')).toMatchObject({ by: '@admin' });
    const after = await admin<Page>('GET', '/history?a=alice&b=bob');
    expect(after.body.messages[1]).toMatchObject({ id: ids[1], message: null, recalled: { by: '@admin' } });
    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: 'nope' })).status).toBe(404);
  });

  it('says which devices of a user are online (inbox sockets open)', async () => {
    const { server, admin, alice } = await setup();
    expect((await admin('GET', '/users/alice/online')).body).toEqual({ user: 'alice', online: false, devices: [] });
    const inbox = openDoc(server, inboxPath('alice'), alice.accessToken);
    await synced(inbox);
    expect((await admin('GET', '/users/alice/online')).body).toEqual({ user: 'alice', online: true, devices: ['test-device'] });
    inbox.destroy();
    await waitFor(() => server.parley.hub.devicesOnline('alice').length === 0, 'offline');
  });

  it('imports friends one way or both ways', async () => {
    const { server, admin, alice, bob } = await setup();
    await admin('POST', '/friends', { user: 'alice', friends: ['bob'] });
    expect((await api<{ friends: { id: string }[] }>(server.url, 'GET', '/friends', undefined, alice.accessToken)).body.friends.map((f) => f.id)).toEqual(['bob']);
    expect((await api<{ friends: unknown[] }>(server.url, 'GET', '/friends', undefined, bob.accessToken)).body.friends).toEqual([]);
    expect((await admin('POST', '/friends', { user: 'alice', friends: ['ghost'] })).status).toBe(404);
  });

  it('accepts an admin user\'s access token', async () => {
    const { server } = await setup();
    // Promote through SQL: there is no API to make admins (yet).
    const db = new Database(join(server.dataDir, 'parley.db'));
    db.prepare("UPDATE users SET role = 'admin' WHERE id = 'alice'").run();
    db.close();
    const session = await api<{ accessToken: string }>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'd' });
    expect((await api(server.url, 'GET', '/admin/settings', undefined, session.body.accessToken)).status).toBe(200);
  });
});
