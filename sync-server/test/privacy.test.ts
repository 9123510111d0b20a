/**
 * Privacy settings, enforced by the server (docs/permissions.md, "Privacy"):
 * read receipts off stop read receipts both ways, and presence (online, last
 * seen, typing, which conversation a device shows) reaches only those the
 * owner's setting allows. Presence means a device holds the app open: its
 * inbox socket. Real server, real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath, inboxPath, type ControlFrame, type Session } from '@parley/protocol';
import { api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, tempDir, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { FakePushService } from './push-service.ts';

let service: FakePushService | undefined;

afterEach(async () => {
  await cleanup();
  await service?.close();
  service = undefined;
});

type PeerFrame = Extract<ControlFrame, { type: 'peer' }>;
type PrivacyFrame = Extract<ControlFrame, { type: 'privacy' }>;

const peerFrames = (client: Client): PeerFrame[] => client.frames.filter((f): f is PeerFrame => f.type === 'peer');
const lastPeer = (client: Client): PeerFrame | undefined => peerFrames(client).at(-1);
const privacyFrames = (client: Client): PrivacyFrame[] => client.frames.filter((f): f is PrivacyFrame => f.type === 'privacy');

async function pair(options: { dataDir?: string; env?: Record<string, string> } = {}) {
  const server = await startServer(options);
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  return { server, alice, bob, path };
}

async function connect(server: TestServer, path: string, session: Session): Promise<Client> {
  const client = openDoc(server, path, session.accessToken);
  await synced(client);
  return client;
}

const setPrivacy = (server: TestServer, session: Session, body: unknown) => api(server.url, 'PATCH', '/me/privacy', body, session.accessToken);
const signIn = async (server: TestServer, user: string, device: string): Promise<Session> =>
  (await api<Session>(server.url, 'POST', '/auth/signin', { user, password: 'correct horse', device })).body;

describe('privacy settings', () => {
  it('start as receipts on and presence for everyone, change one at a time, and refuse a value that is not one', async () => {
    const { server, alice } = await pair();
    expect(await api(server.url, 'GET', '/me/privacy', undefined, alice.accessToken)).toMatchObject({ status: 200, body: { readReceipts: true, presence: 'everyone' } });
    expect(await setPrivacy(server, alice, { readReceipts: false })).toMatchObject({ status: 200, body: { readReceipts: false, presence: 'everyone' } });
    expect(await setPrivacy(server, alice, { presence: 'contacts' })).toMatchObject({ status: 200, body: { readReceipts: false, presence: 'contacts' } });
    expect(await setPrivacy(server, alice, { presence: 'friends' })).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
    expect(await setPrivacy(server, alice, {})).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
    expect(await api(server.url, 'GET', '/me/privacy')).toMatchObject({ status: 401 });
    expect(await api(server.url, 'GET', '/me/privacy', undefined, alice.accessToken)).toMatchObject({ body: { readReceipts: false, presence: 'contacts' } });
  });

  it("tell each of the user's inbox sockets their settings at open and at every change", async () => {
    const { server, alice } = await pair();
    const phone = await connect(server, inboxPath('alice'), alice);
    const laptop = await connect(server, inboxPath('alice'), await signIn(server, 'alice', 'laptop'));
    await waitFor(() => privacyFrames(phone).length === 1 && privacyFrames(laptop).length === 1, 'the settings at open');
    expect(privacyFrames(phone)[0]).toEqual({ type: 'privacy', readReceipts: true, presence: 'everyone', discoverable: true });
    await setPrivacy(server, alice, { readReceipts: false });
    await waitFor(() => privacyFrames(laptop).length === 2, 'the change on the other device');
    expect(privacyFrames(laptop)[1]).toEqual({ type: 'privacy', readReceipts: false, presence: 'everyone', discoverable: true });
  });
});

describe('read receipts off', () => {
  it('refuse a read receipt in either direction while either member has them off, take delivered ones, and take reads again once on', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const m = message('bob', 'alice', 'read me');
    send(b, m);
    await waitFor(() => a.doc.getMap('seq').has(m.id), 'his message, with her');
    await setPrivacy(server, alice, { readReceipts: false });
    await waitFor(() => lastPeer(a)?.readReceipts === false && lastPeer(b)?.readReceipts === false, 'both sockets told receipts no longer flow');

    // Hers (she has them off): the read one refused as out of step, which the app heals without a word.
    a.doc.transact(() => {
      a.doc.getMap('receipts').set('alice|delivered', { user: 'alice', seq: 1 });
      a.doc.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    });
    await waitFor(() => rejects(a).length === 1, 'her read receipt refused');
    expect(rejects(a)[0]).toMatchObject({ code: 'reset-required', msgIds: [] });
    // Delivered alone is taken.
    const a2 = await connect(server, path, alice);
    a2.doc.getMap('receipts').set('alice|delivered', { user: 'alice', seq: 1 });
    await waitFor(() => (b.doc.getMap('receipts').get('alice|delivered') as { seq?: number } | undefined)?.seq === 1, 'her delivered receipt');

    // His (he has them on, she has not): refused too, so she sees none.
    const mine = message('alice', 'bob', 'and you?');
    send(a2, mine);
    await waitFor(() => b.doc.getMap('seq').has(mine.id), 'her message, with him');
    b.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 2 });
    await waitFor(() => rejects(b).length === 1, 'his read receipt refused');
    expect(rejects(b)[0]).toMatchObject({ code: 'reset-required' });
    const later = await connect(server, path, bob);
    expect(later.doc.getMap('receipts').has('bob|read')).toBe(false);
    expect(later.doc.getMap('receipts').has('alice|read')).toBe(false);

    await setPrivacy(server, alice, { readReceipts: true });
    await waitFor(() => lastPeer(later)?.readReceipts === true, 'receipts flow again');
    later.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 2 });
    await waitFor(() => (a2.doc.getMap('receipts').get('bob|read') as { seq?: number } | undefined)?.seq === 2, 'his read receipt');
    expect(rejects(later)).toEqual([]);
  });

  it('refuse the read receipts of a user who turned them off, whatever the peer has', async () => {
    const { server, alice, bob, path } = await pair();
    await setPrivacy(server, bob, { readReceipts: false });
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    expect(lastPeer(b)).toMatchObject({ user: 'alice', readReceipts: false });
    const m = message('alice', 'bob', 'hi');
    send(a, m);
    await waitFor(() => b.doc.getMap('seq').has(m.id), 'her message');
    b.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 1 });
    await waitFor(() => rejects(b).length === 1, 'his read receipt refused');
    expect(a.doc.getMap('receipts').has('bob|read')).toBe(false);
  });
});

describe('presence', () => {
  it('is online while any device holds the app open (its inbox socket), and last seen when the last one closes', async () => {
    const { server, alice, bob, path } = await pair();
    const b = await connect(server, path, bob);
    expect(lastPeer(b)).toEqual({ type: 'peer', user: 'alice', online: false, readReceipts: true });
    const phone = await connect(server, inboxPath('alice'), alice);
    await waitFor(() => lastPeer(b)?.online === true, 'her phone online');
    const laptop = await connect(server, inboxPath('alice'), alice);
    phone.destroy();
    // Her laptop still holds the app open: no frame says otherwise.
    const second = await connect(server, path, bob);
    expect(lastPeer(second)).toMatchObject({ online: true });
    expect(lastPeer(b)).toMatchObject({ online: true });
    const before = Date.now();
    laptop.destroy();
    await waitFor(() => lastPeer(b)?.online === false, 'her last device gone');
    const seen = lastPeer(b)?.lastSeen ?? 0;
    expect(seen).toBeGreaterThanOrEqual(before - 1000);
    expect(seen).toBeLessThanOrEqual(Date.now());
  });

  it('keeps the last-seen time across a restart', async () => {
    const dataDir = tempDir();
    const first = await pair({ dataDir });
    const phone = await connect(first.server, inboxPath('alice'), first.alice);
    const b = await connect(first.server, first.path, first.bob);
    await waitFor(() => lastPeer(b)?.online === true, 'online');
    phone.destroy();
    await waitFor(() => lastPeer(b)?.lastSeen !== undefined, 'last seen');
    const seen = lastPeer(b)?.lastSeen;
    b.destroy();
    await first.server.parley.close();
    const server = await startServer({ dataDir });
    const bob = await signIn(server, 'bob', 'again');
    const again = await connect(server, first.path, bob);
    expect(lastPeer(again)).toEqual({ type: 'peer', user: 'alice', online: false, lastSeen: seen, readReceipts: true });
  });

  it('reaches only whom the setting allows: nobody, contacts (friends), everyone; and who shows nobody sees nobody', async () => {
    const { server, alice, bob, path } = await pair();
    await connect(server, inboxPath('alice'), alice);
    await connect(server, inboxPath('bob'), bob);
    const b = await connect(server, path, bob);
    const a = await connect(server, path, alice);
    await waitFor(() => lastPeer(b)?.online === true && lastPeer(a)?.online === true, 'both online');

    await setPrivacy(server, alice, { presence: 'nobody' });
    await waitFor(() => lastPeer(b)?.online === false, 'she is hidden from him');
    expect(lastPeer(b)).not.toHaveProperty('lastSeen');
    // She shows nobody, so she sees nobody either.
    await waitFor(() => lastPeer(a)?.online === false, 'he is hidden from her');

    await setPrivacy(server, alice, { presence: 'contacts' });
    await waitFor(() => lastPeer(a)?.online === true, 'she sees him again');
    expect(lastPeer(b)?.online).toBe(false);
    // Friends: a request and its acceptance.
    expect((await api(server.url, 'POST', '/friends/requests', { to: 'bob' }, alice.accessToken)).status).toBe(201);
    expect((await api(server.url, 'POST', '/friends/requests/alice/accept', {}, bob.accessToken)).status).toBe(200);
    await waitFor(() => lastPeer(b)?.online === true, 'her contact sees her');

    await setPrivacy(server, alice, { presence: 'everyone' });
    expect(lastPeer(b)?.online).toBe(true);
  });

  it('hides typing and the open conversation from whom the setting hides presence', async () => {
    const { server, alice, bob, path } = await pair();
    await setPrivacy(server, alice, { presence: 'nobody' });
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    a.provider.awareness.setLocalState({ here: 'bob', typing: 'bob' });
    b.provider.awareness.setLocalState({ here: 'alice', typing: 'alice' });
    // Hers waits until his arrived (the server relays both in order of arrival).
    await waitFor(() => a.provider.awareness.getStates().get(b.doc.clientID)?.typing === 'alice', 'his typing, with her');
    expect(b.provider.awareness.getStates().has(a.doc.clientID)).toBe(false);
    await setPrivacy(server, alice, { presence: 'everyone' });
    await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.typing === 'bob', 'her typing once shown');
  });
});

describe('the admin batch query of online states', () => {
  it('answers online, push or offline for up to 500 users, and refuses more', async () => {
    service = await FakePushService.start();
    const { server, alice, bob } = await pair({ env: { PARLEY_PUSH_ALLOW: service.url, PARLEY_VAPID_SUBJECT: 'mailto:ops@parley.example' } });
    const carol = await signUp(server.url, 'carol');
    await connect(server, inboxPath('alice'), alice);
    expect((await api(server.url, 'PUT', '/push/subscription', service.subscription('bob-phone'), bob.accessToken)).status).toBe(204);
    const admin = server.config.adminKey;
    const answer = await api(server.url, 'POST', '/admin/users/online', { users: ['alice', 'bob', 'carol', 'nobody'] }, admin);
    expect(answer).toMatchObject({
      status: 200,
      body: {
        users: [
          { user: 'alice', state: 'online' },
          { user: 'bob', state: 'push' },
          { user: 'carol', state: 'offline' },
          { user: 'nobody', state: 'offline' },
        ],
      },
    });
    expect(carol.user).toBe('carol');
    const many = Array.from({ length: 501 }, (_, i) => `u${i}`);
    expect(await api(server.url, 'POST', '/admin/users/online', { users: many }, admin)).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
    expect(await api(server.url, 'POST', '/admin/users/online', { users: many.slice(0, 500) }, admin)).toMatchObject({ status: 200 });
    expect((await api(server.url, 'POST', '/admin/users/online', { users: ['bob'] }, alice.accessToken)).status).toBe(403);
  });
});
