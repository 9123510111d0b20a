/**
 * Web Push end to end: a real server on port 0 with real SQLite and real
 * y-websocket clients, pushing to a local push service that verifies the
 * VAPID token and decrypts every payload with the subscription's own key.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  API_PREFIX,
  conversationPath,
  prefsPath,
  PUSH_TTL_SECONDS,
  pushTopic,
  type Message,
  type PushSubscriptionBody,
  type Session,
} from '@parley/protocol';
import { loadConfig } from '../src/config.ts';
import { ConfigError, DEFAULT_VAPID_SUBJECT } from '../src/config/values.ts';
import { startParley } from '../src/index.ts';
import type { Resolver } from '../src/push/endpoints.ts';
import { SqlitePush } from '../src/storage/sqlite/push.ts';
import { hostedUserSig } from './hosted-usersig.ts';
import { FakePushService } from './push-service.ts';
import { acks, api, cleanup, message, openDoc, send, signUp, startServer, synced, tempDir, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';

let service: FakePushService | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
  await service?.close();
  service = undefined;
});

/** Retries after 5 ms, 10 ms…: no test waits for a real backoff. */
const PUSH_ENV = { PARLEY_PUSH_RETRY_MS: '5', PARLEY_VAPID_SUBJECT: 'mailto:ops@parley.example' };

/** PUSH_ENV with the local push service's origin allowed (it is plain http on 127.0.0.1, refused otherwise). */
const pushEnv = (at: FakePushService, allow = ''): Record<string, string> => ({ ...PUSH_ENV, PARLEY_PUSH_ALLOW: [allow, at.url].filter((e) => e !== '').join(',') });

async function signIn(server: TestServer, user: string, device: string): Promise<Session> {
  const { status, body } = await api<Session>(server.url, 'POST', '/auth/signin', { user, password: 'correct horse', device });
  if (status !== 200) throw new Error(`sign-in failed: ${status}`);
  return body;
}

/** PUT or DELETE /push/subscription: the status (204 has no body). */
async function subscription(server: TestServer, method: 'PUT' | 'DELETE', token: string, body?: PushSubscriptionBody | Record<string, unknown>): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${server.url}${API_PREFIX}/push/subscription`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, ...(text === '' ? {} : { code: (JSON.parse(text) as { error?: { code: string } }).error?.code }) };
}

async function subscribe(server: TestServer, token: string, body: PushSubscriptionBody): Promise<void> {
  expect((await subscription(server, 'PUT', token, body)).status).toBe(204);
}

/**
 * alice and bob, bob with two devices ("phone" and "laptop"), each subscribed
 * at the push service; alice's conversation document open and synced.
 */
async function setup(options: { previews?: boolean; env?: Record<string, string> } = {}) {
  service = await FakePushService.start();
  const server = await startServer({ env: { ...pushEnv(service), ...options.env } });
  const alice = await signUp(server.url, 'alice');
  const phone = await signUp(server.url, 'bob', 'phone');
  const laptop = await signIn(server, 'bob', 'laptop');
  await subscribe(server, phone.accessToken, service.subscription('phone'));
  await subscribe(server, laptop.accessToken, service.subscription('laptop', options.previews ?? true));
  const path = conversationPath('alice', 'bob', thisSegment());
  const conversation = openDoc(server, path, alice.accessToken);
  await synced(conversation);
  return { server, service, alice, phone, laptop, path, conversation };
}

/** alice sends `text` to bob; resolves once it is acked and every push it caused is sent or given up. */
async function sendAndSettle(server: TestServer, conversation: Client, text: string, over: Partial<Message> = {}): Promise<Message> {
  const m = message('alice', 'bob', text, over);
  send(conversation, m);
  await waitFor(() => acks(conversation).includes(m.id), `ack of ${m.id}`);
  await server.parley.push.idle();
  return m;
}

/** bob's inbox socket on a device: the device is online while it is open. */
async function online(server: TestServer, session: Session): Promise<Client> {
  const inbox = openDoc(server, `inbox/${session.user}`, session.accessToken);
  await synced(inbox);
  await waitFor(() => server.parley.hub.devicesOnline(session.user).includes(session.device), 'the device online');
  return inbox;
}

const rows = (server: TestServer, table: 'push_subscriptions' | 'push_queue'): number => {
  const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

/** The payloads of the queued pushes, as stored. */
const payloads = (server: TestServer): string[] => {
  const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
  try {
    return (db.prepare('SELECT payload FROM push_queue').all() as { payload: string }[]).map((r) => r.payload);
  } finally {
    db.close();
  }
};

describe('push subscriptions', () => {
  it('serves the VAPID key kept in the data dir (0600), the same after a restart', async () => {
    const server = await startServer({ env: PUSH_ENV });
    const { status, body } = await api<{ publicKey: string }>(server.url, 'GET', '/push/key');
    expect(status).toBe(200);
    const key = Buffer.from(body.publicKey, 'base64url');
    expect(key).toHaveLength(65);
    expect(key[0]).toBe(4);
    expect(statSync(join(server.dataDir, 'vapid.json')).mode & 0o777).toBe(0o600);
    await server.parley.close();
    const again = await startServer({ dataDir: server.dataDir, env: PUSH_ENV });
    expect((await api<{ publicKey: string }>(again.url, 'GET', '/push/key')).body.publicKey).toBe(body.publicKey);
  });

  it('refuses a subscription it could not push to, and one without a session', async () => {
    service = await FakePushService.start();
    const server = await startServer({ env: pushEnv(service) });
    const bob = await signUp(server.url, 'bob');
    const good = service.subscription('phone');
    for (const bad of [
      { ...good, endpoint: 'http://push.example/x' },
      { ...good, endpoint: 'ftp://push.example/x' },
    ]) {
      expect(await subscription(server, 'PUT', bob.accessToken, bad), bad.endpoint).toEqual({ status: 400, code: 'push-endpoint-forbidden' });
    }
    for (const bad of [
      { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } },
      { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } },
    ]) {
      expect(await subscription(server, 'PUT', bob.accessToken, bad), JSON.stringify(bad.keys)).toEqual({ status: 400, code: 'push-subscription-invalid' });
    }
    expect((await subscription(server, 'PUT', bob.accessToken, { endpoint: 'not a url' })).code).toBe('bad-request');
    expect((await subscription(server, 'PUT', '', good)).status).toBe(401);
    await subscribe(server, bob.accessToken, good);
    expect(rows(server, 'push_subscriptions')).toBe(1);
    expect((await subscription(server, 'DELETE', bob.accessToken)).status).toBe(204);
    expect(rows(server, 'push_subscriptions')).toBe(0);
  });
});

describe('who gets a push', () => {
  it('pushes a message once to each offline device and none to an online one', async () => {
    const { server, service, phone, path, conversation } = await setup();
    const inbox = await online(server, phone);
    const m = await sendAndSettle(server, conversation, 'hello bob');
    expect(service.errors).toEqual([]);
    expect(service.to('phone')).toHaveLength(0);
    expect(service.to('laptop')).toHaveLength(1);
    const [push] = service.to('laptop');
    expect(push?.payload).toEqual({
      v: 1,
      kind: 'message',
      peer: 'alice',
      doc: path,
      sender: { id: 'alice', nickname: 'alice' },
      message: { id: m.id, seq: 1, ts: m.ts, type: 'text', preview: 'hello bob', body: [{ type: 'text', text: 'hello bob' }] },
      unread: 1,
    });
    expect(push?.headers.ttl).toBe(String(PUSH_TTL_SECONDS));
    expect(push?.headers.urgency).toBe('high');
    expect(push?.headers.topic).toBe(pushTopic('alice'));
    expect(push?.headers['content-encoding']).toBe('aes128gcm');
    expect(push?.vapid.sub).toBe(PUSH_ENV.PARLEY_VAPID_SUBJECT);
    expect(push?.vapid.key).toBe((await api<{ publicKey: string }>(server.url, 'GET', '/push/key')).body.publicKey);

    // The phone goes offline when its inbox socket closes: the next message reaches both.
    inbox.destroy();
    await waitFor(() => server.parley.hub.devicesOnline('bob').length === 0, 'the phone offline');
    const next = await sendAndSettle(server, conversation, 'still there?');
    expect(service.to('phone').map((r) => r.payload.message.id)).toEqual([next.id]);
    expect(service.to('laptop').map((r) => [r.payload.message.id, r.payload.unread])).toEqual([
      [m.id, 1],
      [next.id, 2],
    ]);
  });

  it('sends no message text at all to a device with previews off', async () => {
    const { server, service, conversation } = await setup({ previews: false });
    const m = await sendAndSettle(server, conversation, 'the secret plan', {
      body: [
        { type: 'text', text: 'the secret plan' },
        { type: 'custom', kind: 'poll', data: { q: 'secret?' }, description: 'a secret poll' },
      ],
    });
    const [push] = service.to('laptop');
    expect(push?.payload.message).toEqual({ id: m.id, seq: 1, ts: m.ts, type: 'text' });
    expect(push?.json).not.toMatch(/secret/);
    expect(push?.payload.sender.nickname).toBe('alice');
    // The other device keeps its previews.
    expect(service.to('phone')[0]?.payload.message.preview).toBe('the secret plan a secret poll');
  });

  it('sends nothing for a muted conversation, and pushes again once unmuted', async () => {
    const { server, service, phone, conversation } = await setup();
    const prefs = openDoc(server, prefsPath('bob'), phone.accessToken);
    await synced(prefs);
    const setMuted = async (muted: boolean): Promise<void> => {
      const before = prefs.frames.filter((f) => f.type === 'ack').length;
      prefs.doc.getMap('muted').set('alice', { muted });
      await waitFor(() => prefs.frames.filter((f) => f.type === 'ack').length > before, 'the prefs write acked');
    };
    await setMuted(true);
    // A prefs socket does not make the phone online.
    expect(server.parley.hub.devicesOnline('bob')).toEqual([]);
    await sendAndSettle(server, conversation, 'muted');
    expect(service.received).toHaveLength(0);
    await setMuted(false);
    const m = await sendAndSettle(server, conversation, 'unmuted');
    expect(service.received.map((r) => [r.name, r.payload.message.id]).sort()).toEqual([
      ['laptop', m.id],
      ['phone', m.id],
    ]);
  });

  it('pushes an admin send, and its recall with the same Topic so it replaces the notification', async () => {
    const { server, service } = await setup();
    const admin = <T>(method: string, path: string, body: unknown) => api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);
    const sent = await admin<{ id: string; seq: number }>('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: 'from the admin' }] });
    expect(sent.status).toBe(201);
    await server.parley.push.idle();
    expect(service.to('laptop').map((r) => [r.payload.kind, r.payload.message.preview])).toEqual([['message', 'from the admin']]);
    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: sent.body.id })).status).toBe(200);
    await server.parley.push.idle();
    const recall = service.to('laptop')[1];
    expect(recall?.payload).toMatchObject({ kind: 'recall', peer: 'alice', message: { id: sent.body.id, seq: sent.body.seq, type: 'text' } });
    expect(recall?.payload.message.preview).toBeUndefined();
    expect(recall?.payload.message.body).toBeUndefined();
    expect(recall?.headers.topic).toBe(pushTopic('alice'));
    expect(recall?.headers.urgency).toBe('normal');
  });
});

describe("a /v4/ send's push options", () => {
  it('PushFlag 1 and MsgLifeTime 0 send no push; MsgLifeTime caps the TTL; OfflinePushInfo is the title and text', async () => {
    const compat = { sdkAppId: 1400000000, secretKey: 'the app secret key of this test' };
    const { server, service } = await setup({ env: { PARLEY_COMPAT_SDKAPPID: String(compat.sdkAppId), PARLEY_COMPAT_SECRET_KEY: compat.secretKey } });
    const sendmsg = async (random: number, extra: Record<string, unknown>): Promise<void> => {
      const query = new URLSearchParams({ sdkappid: String(compat.sdkAppId), identifier: 'administrator', usersig: hostedUserSig({ ...compat, identifier: 'administrator' }), contenttype: 'json' });
      const body = { From_Account: 'alice', To_Account: 'bob', MsgRandom: random, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `message ${random}` } }], ...extra };
      const answer = (await (await fetch(`${server.url}/v4/openim/sendmsg?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { ActionStatus: string };
      expect(answer.ActionStatus).toBe('OK');
      await server.parley.push.idle();
    };
    await sendmsg(1, { OfflinePushInfo: { PushFlag: 1 } });
    await sendmsg(2, { MsgLifeTime: 0 });
    await sendmsg(3, { MsgLifeTime: 60, OfflinePushInfo: { Title: 'Order 42', Desc: 'On its way' } });
    await server.parley.push.idle();
    const pushes = service.to('laptop');
    expect(pushes.map((p) => p.payload.message.preview)).toEqual(['message 3']);
    expect(pushes[0]?.payload.show).toEqual({ title: 'Order 42', text: 'On its way' });
    expect(Number(pushes[0]?.headers.ttl)).toBeLessThanOrEqual(60);
    expect(Number(pushes[0]?.headers.ttl)).toBeGreaterThan(0);
  });
});

/**
 * Counts the server's reads of each user's subscriptions. Call before the
 * server starts: the SQLite storage binds its read methods when it opens.
 */
function countSubscriptionReads(): (user: string) => number {
  const reads = vi.spyOn(SqlitePush.prototype, 'pushSubscriptionsOf');
  return (user) => reads.mock.calls.filter(([u]) => u === user).length;
}

/** alice's conversation with `peer`, open and synced. */
async function conversationWith(server: TestServer, alice: Session, peer: string): Promise<Client> {
  const conversation = openDoc(server, conversationPath('alice', peer, thisSegment()), alice.accessToken);
  await synced(conversation);
  return conversation;
}

describe('deciding a push without a storage read', () => {
  it('reads the subscriptions of a recipient once: none more for one without any, nor for one whose devices are all online', async () => {
    const readsOf = countSubscriptionReads();
    const { server, service, alice, phone, laptop, conversation } = await setup();
    await signUp(server.url, 'carol');
    const toCarol = await conversationWith(server, alice, 'carol');
    for (let i = 0; i < 10; i++) await sendAndSettle(server, toCarol, `carol ${i}`, { to: 'carol' });
    expect(readsOf('carol')).toBe(1);

    await online(server, phone);
    await online(server, laptop);
    const before = readsOf('bob');
    for (let i = 0; i < 10; i++) await sendAndSettle(server, conversation, `bob ${i}`);
    expect(readsOf('bob') - before).toBe(1);
    expect(service.received).toEqual([]);
  });

  it('sees a subscription added, removed, or its endpoint taken by another user at the next message', async () => {
    const { server, service, phone, conversation } = await setup();
    const ids = (name: string) => service.to(name).map((r) => r.payload.message.id);
    const first = await sendAndSettle(server, conversation, 'first');
    expect((await subscription(server, 'DELETE', phone.accessToken)).status).toBe(204);
    const second = await sendAndSettle(server, conversation, 'second');
    expect([ids('phone'), ids('laptop')]).toEqual([[first.id], [first.id, second.id]]);

    await subscribe(server, phone.accessToken, service.subscription('phone'));
    const third = await sendAndSettle(server, conversation, 'third');
    expect(ids('phone')).toEqual([first.id, third.id]);

    // carol's browser now holds the laptop's endpoint: storing it drops bob's laptop subscription.
    const carol = await signUp(server.url, 'carol');
    await subscribe(server, carol.accessToken, service.subscription('laptop'));
    const fourth = await sendAndSettle(server, conversation, 'fourth');
    expect([ids('phone'), ids('laptop')]).toEqual([
      [first.id, third.id, fourth.id],
      [first.id, second.id, third.id],
    ]);
    expect(service.errors).toEqual([]);
  });

  it('keeps the subscriptions of at most PARLEY_PUSH_CACHE_USERS recipients, the least recently messaged dropped first', async () => {
    const readsOf = countSubscriptionReads();
    const server = await startServer({ env: { ...PUSH_ENV, PARLEY_PUSH_CACHE_USERS: '2' } });
    const alice = await signUp(server.url, 'alice');
    const to = new Map<string, Client>();
    for (const peer of ['carol', 'dave', 'erin']) {
      await signUp(server.url, peer);
      to.set(peer, await conversationWith(server, alice, peer));
    }
    for (const peer of ['carol', 'dave', 'carol', 'erin', 'dave', 'erin']) {
      const conversation = to.get(peer);
      if (conversation === undefined) throw new Error(peer);
      await sendAndSettle(server, conversation, `to ${peer}`, { to: peer });
    }
    // carol was messaged after dave, so erin dropped dave; dave then dropped carol.
    expect([readsOf('carol'), readsOf('dave'), readsOf('erin')]).toEqual([1, 2, 1]);
  });
});

describe('a recall and the queue', () => {
  it('drops a push of the message still waiting in the queue: no row keeps its text, and the recall is queued instead', async () => {
    const { server, service } = await setup();
    const admin = <T>(method: string, path: string, body: unknown) => api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);
    const send = (text: string) => admin<{ id: string; seq: number }>('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text }] });
    // The laptop's lane is busy with a request the push service holds: the next push waits behind it.
    service.answer('laptop', 'hold');
    await send('first');
    await waitFor(() => service.to('laptop').length === 1, 'the held request');
    const secret = await send('the meeting room code is 4471');
    const queued = (): string[] => payloads(server).filter((p) => p.includes('4471'));
    // Bounds, not waits: each step takes milliseconds alone, and once took over 5 s in CI with every suite running at once.
    await waitFor(() => queued().length === 1, 'the laptop\'s push of the secret queued', 15_000);

    expect((await admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: secret.body.id })).status).toBe(200);
    await waitFor(() => queued().length === 0 && payloads(server).some((p) => p.includes('"kind":"recall"')), 'the push dropped and the recall queued', 15_000);
    expect(service.to('laptop').map((r) => r.payload.message.preview)).toEqual(['first']);
    // The phone had it already (nothing to take back there); its recall replaces the notification.
    await waitFor(() => service.to('phone').length === 3, 'the phone\'s three pushes', 15_000);
    expect(service.to('phone').map((r) => [r.payload.kind, r.payload.message.id])).toEqual([
      ['message', expect.any(String)],
      ['message', secret.body.id],
      ['recall', secret.body.id],
    ]);
  });
});

describe('what the push service answers', () => {
  it('deletes a subscription the push service says is gone (410), and sends it nothing more', async () => {
    const { server, service, conversation } = await setup();
    service.answer('laptop', { status: 410 });
    await sendAndSettle(server, conversation, 'first');
    expect(service.to('laptop').map((r) => r.status)).toEqual([410]);
    expect(rows(server, 'push_subscriptions')).toBe(1);
    await sendAndSettle(server, conversation, 'second');
    expect(service.to('laptop')).toHaveLength(1);
    expect(service.to('phone')).toHaveLength(2);
  });

  it('retries a push put off with 503 and 429 (Retry-After) and delivers it exactly once', async () => {
    const { server, service, conversation } = await setup();
    service.answer('laptop', { status: 503 }, { status: 429, retryAfter: '0' });
    const m = await sendAndSettle(server, conversation, 'eventually');
    expect(service.to('laptop').map((r) => [r.status, r.payload.message.id])).toEqual([
      [503, m.id],
      [429, m.id],
      [201, m.id],
    ]);
    expect(service.to('phone').map((r) => r.status)).toEqual([201]);
    expect(rows(server, 'push_queue')).toBe(0);
  });

  it('drops a push the push service refuses outright (400) without retrying', async () => {
    const { server, service, conversation } = await setup();
    service.answer('laptop', { status: 400 });
    await sendAndSettle(server, conversation, 'refused');
    expect(service.to('laptop').map((r) => r.status)).toEqual([400]);
    expect(rows(server, 'push_subscriptions')).toBe(2);
    expect(rows(server, 'push_queue')).toBe(0);
  });

  it('resumes a queued push after a restart', async () => {
    const { server, service, conversation } = await setup();
    // The push service takes the request and never answers: the server stops with the push unsent.
    service.answer('laptop', 'hold');
    const m = message('alice', 'bob', 'across a restart');
    send(conversation, m);
    // The phone's push is sent and dropped from the queue; the laptop's stays.
    await waitFor(() => service.to('laptop').length === 1 && rows(server, 'push_queue') === 1, 'the held request, the phone\'s push done');
    conversation.destroy();
    await server.parley.close();
    expect(rows(server, 'push_queue')).toBe(1);

    const again = await startServer({ dataDir: server.dataDir, env: pushEnv(service) });
    await waitFor(() => service.to('laptop').length === 2, 'the resumed request');
    await again.parley.push.idle();
    expect(service.to('laptop').map((r) => [r.status, r.payload.message.id])).toEqual([
      [0, m.id],
      [201, m.id],
    ]);
    expect(service.to('phone').map((r) => r.payload.message.id)).toEqual([m.id]);
    expect(rows(again, 'push_queue')).toBe(0);
  });
});

describe('push endpoints (no server-side request forgery)', () => {
  it('refuses at subscription an endpoint that is http, names a port, or is or resolves to a local address', async () => {
    service = await FakePushService.start();
    // Any host name: what refuses these is the scheme, the port or the address, not the list.
    const server = await startServer({ env: pushEnv(service, '*') });
    const bob = await signUp(server.url, 'bob');
    const good = service.subscription('phone');
    for (const endpoint of [
      'http://fcm.googleapis.com/fcm/send/x',
      'https://fcm.googleapis.com:8443/fcm/send/x',
      'https://127.0.0.1/x',
      'https://10.0.0.8/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://100.64.0.9/x',
      'https://192.168.1.1/x',
      'https://[fd00::1]/x',
      'https://localhost/x',
      `${service.url.replace('http:', 'https:')}/push/phone`,
    ]) {
      expect(await subscription(server, 'PUT', bob.accessToken, { ...good, endpoint }), endpoint).toEqual({ status: 400, code: 'push-endpoint-forbidden' });
    }
    expect(rows(server, 'push_subscriptions')).toBe(0);
  });

  it("refuses by default a host that is not one of the browsers' push services, and the test's own service unless its origin is listed", async () => {
    service = await FakePushService.start();
    const server = await startServer({ env: PUSH_ENV });
    const bob = await signUp(server.url, 'bob');
    const good = service.subscription('phone');
    for (const endpoint of ['https://attacker.example/x', 'https://fcm.googleapis.com.attacker.example/x', good.endpoint]) {
      expect(await subscription(server, 'PUT', bob.accessToken, { ...good, endpoint }), endpoint).toEqual({ status: 400, code: 'push-endpoint-forbidden' });
    }
    expect(rows(server, 'push_subscriptions')).toBe(0);
  });

  it('checks again at send time: a subscription no longer allowed is sent nothing and dropped like a gone one', async () => {
    const { server, service, conversation } = await setup();
    conversation.destroy();
    await server.parley.close();
    // The operator took the push service off the list; the stored subscriptions stay until a push is due.
    const again = await startServer({ dataDir: server.dataDir, env: PUSH_ENV });
    const alice = await api<Session>(again.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'test-device' });
    const doc = openDoc(again, conversationPath('alice', 'bob', thisSegment()), alice.body.accessToken);
    await synced(doc);
    await sendAndSettle(again, doc, 'to nowhere');
    expect(service.received).toEqual([]);
    expect(rows(again, 'push_subscriptions')).toBe(0);
    expect(rows(again, 'push_queue')).toBe(0);
  });

  it('refuses at send time a name that answered a public address at subscription and a local one now (DNS rebinding)', async () => {
    let answer = '142.250.74.74';
    const lookups: string[] = [];
    const resolver: Resolver = (hostname) => {
      lookups.push(hostname);
      return Promise.resolve([{ address: answer, family: 4 }]);
    };
    const config = loadConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: tempDir(), PARLEY_LOG_LEVEL: 'silent', PARLEY_STATIC_DIR: '', ...PUSH_ENV, PARLEY_PUSH_ALLOW: '*' });
    const parley = await startParley({ ...config, staticDir: null }, { resolver });
    const server: TestServer = { parley, config, dataDir: config.dataDir, url: parley.url, wsUrl: `${parley.url.replace('http', 'ws')}/sync` };
    try {
      await signUp(server.url, 'alice');
      const bob = await signUp(server.url, 'bob', 'phone');
      service = await FakePushService.start();
      await subscribe(server, bob.accessToken, { ...service.subscription('phone'), endpoint: 'https://push.rebind.example/push/phone' });
      expect(lookups).toEqual(['push.rebind.example']);
      expect(rows(server, 'push_subscriptions')).toBe(1);

      answer = '127.0.0.1';
      const alice = await api<Session>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'test-device' });
      const doc = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.body.accessToken);
      await synced(doc);
      await sendAndSettle(server, doc, 'rebound');
      doc.destroy();
      expect(lookups).toEqual(['push.rebind.example', 'push.rebind.example']);
      expect(rows(server, 'push_subscriptions')).toBe(0);
      expect(rows(server, 'push_queue')).toBe(0);
    } finally {
      await parley.close();
    }
  });
});

describe('the VAPID subject', () => {
  const configWith = (subject: string) => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_VAPID_SUBJECT: subject });

  it('refuses a localhost subject at start, naming the setting', async () => {
    for (const subject of ['https://localhost', 'https://localhost:8443/contact', 'http://127.0.0.1', 'https://127.0.0.1/', 'mailto:admin@localhost', 'mailto:ops@app.localhost', 'https://[::1]/']) {
      expect(() => configWith(subject), subject).toThrow(ConfigError);
      expect(() => configWith(subject), subject).toThrow(/PARLEY_VAPID_SUBJECT/);
    }
    expect(() => configWith('push@example.com')).toThrow(/PARLEY_VAPID_SUBJECT must be a mailto: or https: URL/);
    await expect(startServer({ env: { PARLEY_VAPID_SUBJECT: 'mailto:admin@localhost' } })).rejects.toThrow(/PARLEY_VAPID_SUBJECT/);
  });

  it('takes a mailto: or https: subject of a real domain, and defaults to a placeholder that is not localhost', () => {
    expect(configWith('mailto:ops@example.com').vapidSubject).toBe('mailto:ops@example.com');
    expect(configWith('https://chat.example.com/contact').vapidSubject).toBe('https://chat.example.com/contact');
    expect(loadConfig({ PARLEY_DATA_DIR: tempDir() }).vapidSubject).toBe(DEFAULT_VAPID_SUBJECT);
  });
});
