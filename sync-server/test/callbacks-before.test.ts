/**
 * The before-send callback (PARLEY_CALLBACK_BEFORE_SEND): a real HTTP
 * receiver on 127.0.0.1 answers for the app's backend; real server, SQLite
 * and sockets.
 */
import http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationPath, type Message } from '@parley/protocol';
import { SqliteStorage } from '../src/storage/sqlite.ts';
import { startCluster } from './cluster.ts';
import { killProcesses } from './process.ts';
import { postgresUrl, redisUrl } from './services.ts';
import { hostedUserSig } from './hosted-usersig.ts';
import { acks, allBytes, cleanup, message, openDoc, rejects, send, signUp, startServer, storedDoc, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';

afterEach(cleanup);

interface Call {
  query: URLSearchParams;
  body: { CallbackCommand: string; From_Account: string; To_Account: string; MsgKey: string; MsgBody: { MsgType: string; MsgContent: { Text?: string } }[] };
}
type Answer = Record<string, unknown>;

/** The app's backend: answers each call with `answer`, which may wait; records the calls. */
async function receiver(answer: (call: Call) => Answer | Promise<Answer>): Promise<{ origin: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call: Call = { query: new URL(request.url ?? '/', 'http://x').searchParams, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call['body'] };
      calls.push(call);
      void Promise.resolve(answer(call)).then((json) => {
        if (response.destroyed) return;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  afterEachClose.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { origin: `http://127.0.0.1:${port}`, calls };
}
const afterEachClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of afterEachClose.splice(0)) await close();
});

const textOf = (call: Call): string => call.body.MsgBody.map((e) => e.MsgContent.Text ?? '').join(' ');
const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };

async function setUp(answer: (call: Call) => Answer | Promise<Answer>, env: Record<string, string> = {}) {
  const backend = await receiver(answer);
  const server = await startServer({
    env: {
      PARLEY_CALLBACK_URL: `${backend.origin}/im-callback`,
      PARLEY_CALLBACK_ALLOW: backend.origin,
      PARLEY_CALLBACK_BEFORE_SEND: 'on',
      PARLEY_CALLBACK_AFTER_SEND: 'off',
      ...env,
    },
  });
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const connect = async (token: string): Promise<Client> => {
    const client = openDoc(server, path, token);
    await synced(client);
    return client;
  };
  return { server, backend, alice, bob, path, connect };
}

const held = (client: Client, id: string): Message | undefined => client.doc.getMap<Message>('messages').get(id);
const textIn = (doc: Y.Doc, id: string): string | undefined => {
  const body = doc.getMap<Message>('messages').get(id)?.body[0];
  return body?.type === 'text' ? body.text : undefined;
};
const textHeld = (client: Client, id: string): string | undefined => textIn(client.doc, id);

/** A message from a fresh device of `token`'s user, delivered to `to`: what came before it has had its chance to arrive. */
async function deliveredAfter(server: TestServer, path: string, token: string, to: Client): Promise<void> {
  const device = openDoc(server, path, token);
  await synced(device);
  const later = message('alice', 'bob', 'a later message');
  send(device, later);
  await waitFor(() => held(to, later.id) !== undefined, 'the later message at the peer');
}

describe('the before-send callback', () => {
  it("refuses a message the backend refuses: the sender gets callback-refused with the backend's words, the peer nothing, and nothing is stored", async () => {
    const { server, backend, alice, bob, path, connect } = await setUp((call) =>
      textOf(call).includes('darn') ? { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: 'Mind your language, please.' } : OK,
    );
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const rude = message('alice', 'bob', 'darn it');
    send(a, rude);
    await waitFor(() => rejects(a).length > 0, 'the refusal');
    expect(rejects(a)[0]).toMatchObject({ code: 'callback-refused', message: 'Mind your language, please.', msgIds: [rude.id] });
    expect(backend.calls[0]?.body).toMatchObject({ CallbackCommand: 'C2C.CallbackBeforeSendMsg', From_Account: 'alice', To_Account: 'bob', MsgKey: rude.id });
    expect(backend.calls[0]?.query.get('CallbackCommand')).toBe('C2C.CallbackBeforeSendMsg');
    await deliveredAfter(server, path, alice.accessToken, b);
    expect(held(b, rude.id)).toBeUndefined();
    expect(acks(a)).not.toContain(rude.id);
    await server.parley.close();
    expect((await storedDoc(server.dataDir, path)).getMap('messages').has(rude.id)).toBe(false);
  });

  it("takes a backend's rewrite: the peer and the sender's other device see the rewritten text, and the original reaches no disk", async () => {
    const { server, alice, bob, path, connect } = await setUp((call) =>
      textOf(call).includes('darn') ? { ...OK, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: textOf(call).replace('darn', '****') } }] } : OK,
    );
    const a = await connect(alice.accessToken);
    const other = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const rude = message('alice', 'bob', 'darn it');
    send(a, rude);
    await waitFor(() => acks(a).includes(rude.id), 'the ack');
    await waitFor(() => textHeld(b, rude.id) === '**** it' && textHeld(other, rude.id) === '**** it' && textHeld(a, rude.id) === '**** it', 'the rewritten text everywhere');
    expect(held(b, rude.id)).toMatchObject({ id: rude.id, from: 'alice', to: 'bob', type: 'text' });
    expect(b.doc.getMap<number>('seq').get(rude.id)).toBe(1);
    // The row stored for it (what a peer syncing later is sent) holds the rewrite alone, before any compaction.
    await server.parley.hub.commit.idle();
    const storage = new SqliteStorage(join(server.dataDir, 'parley.db'));
    const rows = (await storage.loadDoc(path)).updates.map((u) => Buffer.from(u.data).toString('latin1'));
    await storage.close();
    expect(rows.some((row) => row.includes('****'))).toBe(true);
    expect(rows.filter((row) => row.includes('darn'))).toEqual([]);
    await server.parley.close();
    expect(textIn(await storedDoc(server.dataDir, path), rude.id)).toBe('**** it');
    expect(allBytes(server.dataDir)).not.toContain('darn');
  });

  it('lets the sender recall a message the backend rewrote', async () => {
    const { alice, bob, connect } = await setUp((call) => (textOf(call) === 'darn' ? { ...OK, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '****' } }] } : OK));
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const rude = message('alice', 'bob', 'darn');
    send(a, rude);
    await waitFor(() => textHeld(a, rude.id) === '****' && textHeld(b, rude.id) === '****', 'the rewrite on both sides');
    a.doc.transact(() => {
      a.doc.getMap('recalls').set(rude.id, { by: 'alice', ts: Date.now() });
      a.doc.getMap('messages').delete(rude.id);
    });
    await waitFor(() => b.doc.getMap('recalls').has(rude.id) || rejects(a).length > 0, 'the recall, or its refusal');
    expect(rejects(a)).toEqual([]);
    await waitFor(() => held(b, rude.id) === undefined, 'the content gone at the peer');
  });

  it('drops a message the backend drops: the sender gets its ack, the peer nothing', async () => {
    const { server, alice, bob, path, connect } = await setUp((call) => (textOf(call).includes('spam') ? { ...OK, ErrorCode: 2 } : OK));
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const spam = message('alice', 'bob', 'buy spam now');
    send(a, spam);
    await waitFor(() => acks(a).includes(spam.id), 'the ack');
    expect(rejects(a)).toEqual([]);
    await deliveredAfter(server, path, alice.accessToken, b);
    expect(held(b, spam.id)).toBeUndefined();
  });

  it('sends the message when the backend does not answer in time and failing open', async () => {
    const { backend, alice, bob, connect } = await setUp(() => new Promise(() => undefined), { PARLEY_CALLBACK_TIMEOUT_MS: '200' });
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const m = message('alice', 'bob', 'hello');
    send(a, m);
    await waitFor(() => textHeld(b, m.id) === 'hello', 'delivery');
    expect(acks(a)).toContain(m.id);
    expect(backend.calls.map(textOf)).toEqual(['hello']);
  });

  it('refuses the message with callback-unavailable when the backend does not answer in time and failing closed', async () => {
    const { server, alice, bob, path, connect } = await setUp(() => new Promise(() => undefined), { PARLEY_CALLBACK_TIMEOUT_MS: '200', PARLEY_CALLBACK_FAIL: 'closed' });
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const m = message('alice', 'bob', 'hello');
    send(a, m);
    await waitFor(() => rejects(a).length > 0, 'the refusal');
    expect(rejects(a)[0]).toMatchObject({ code: 'callback-unavailable', msgIds: [m.id] });
    expect(held(b, m.id)).toBeUndefined();
    await server.parley.close();
    expect((await storedDoc(server.dataDir, path)).getMap('messages').has(m.id)).toBe(false);
  });

  it("holds a sender's next message behind one its backend is slow about, in order, and nobody else's", async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { backend, alice, bob, connect } = await setUp(async (call) => {
      if (textOf(call) === 'first') await released;
      return OK;
    });
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const first = message('alice', 'bob', 'first');
    const second = message('alice', 'bob', 'second');
    send(a, first);
    await waitFor(() => backend.calls.length === 1, 'the first question');
    send(a, second);
    const fromBob = message('bob', 'alice', 'meanwhile');
    send(b, fromBob);
    await waitFor(() => held(a, fromBob.id) !== undefined, "bob's message, while alice's first waits");
    const seq = (id: string): number | undefined => b.doc.getMap<number>('seq').get(id);
    expect(seq(first.id)).toBeUndefined();
    expect(seq(second.id)).toBeUndefined();
    expect(backend.calls.map(textOf)).toEqual(['first', 'meanwhile']);
    release();
    await waitFor(() => seq(first.id) !== undefined && seq(second.id) !== undefined, 'both of alice’s messages');
    expect(seq(fromBob.id)).toBe(1);
    expect([seq(first.id), seq(second.id)]).toEqual([2, 3]);
    expect(acks(a)).toEqual([first.id, second.id]);
  });

  it('refuses a writer more updates than PARLEY_MESSAGE_BURST waiting behind a slow answer with slow-down', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { alice, bob, connect } = await setUp(
      async (call) => {
        if (textOf(call) === 'first') await released;
        return OK;
      },
      { PARLEY_MESSAGE_BURST: '3' },
    );
    const a = await connect(alice.accessToken);
    const b = await connect(bob.accessToken);
    const sent = ['first', 'second', 'third', 'fourth', 'fifth'].map((text) => message('alice', 'bob', text));
    for (const m of sent) send(a, m);
    await waitFor(() => rejects(a).length > 0, 'the refusal of the fifth');
    expect(rejects(a)[0]).toMatchObject({ code: 'slow-down', msgIds: [], retryAfterMs: 2000 });
    release();
    const seq = (id: string): number | undefined => b.doc.getMap<number>('seq').get(id);
    await waitFor(() => sent.slice(0, 4).every((m) => seq(m.id) !== undefined), 'the four that waited');
    expect(sent.slice(0, 4).map((m) => seq(m.id))).toEqual([1, 2, 3, 4]);
  });
});

const postgres = postgresUrl();
const redis = redisUrl();

describe.runIf(postgres !== null && redis !== null)('the before-send callback in a cluster', { timeout: 60_000 }, () => {
  afterEach(killProcesses);

  it("asks on the leader, in the order a follower's writer sent, and the refusal reaches the writer there", async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const backend = await receiver(async (call) => {
      if (textOf(call) === 'first') await released;
      return textOf(call) === 'darn' ? { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: 'Not that word.' } : OK;
    });
    const cluster = await startCluster(postgres ?? '', redis ?? '', 2, {
      PARLEY_CALLBACK_URL: `${backend.origin}/im-callback`,
      PARLEY_CALLBACK_ALLOW: backend.origin,
      PARLEY_CALLBACK_BEFORE_SEND: 'on',
      PARLEY_CALLBACK_AFTER_SEND: 'off',
    });
    try {
      const [leader, follower] = cluster.processes.map((p) => p.server) as [TestServer, TestServer];
      const bob = await signUp(leader.url, 'bob', 'b1');
      const alice = await signUp(follower.url, 'alice', 'a1');
      const path = conversationPath('alice', 'bob', thisSegment());
      // Bob opens it first: the first process leads it, and alice's writes on the second are forwarded there.
      const b = openDoc(leader, path, bob.accessToken);
      await synced(b);
      const a = openDoc(follower, path, alice.accessToken);
      await synced(a);
      const [first, second, rude] = ['first', 'second', 'darn'].map((text) => message('alice', 'bob', text)) as [Message, Message, Message];
      send(a, first);
      await waitFor(() => backend.calls.length === 1, 'the first question', 15_000);
      send(a, second);
      send(a, rude);
      release();
      await waitFor(() => rejects(a).length > 0, 'the refusal of the third', 15_000);
      expect(rejects(a)[0]).toMatchObject({ code: 'callback-refused', message: 'Not that word.', msgIds: [rude.id] });
      const seq = (id: string): number | undefined => b.doc.getMap<number>('seq').get(id);
      await waitFor(() => seq(first.id) !== undefined && seq(second.id) !== undefined, "alice's two messages at bob", 15_000);
      expect([seq(first.id), seq(second.id)]).toEqual([1, 2]);
      expect(backend.calls.map(textOf)).toEqual(['first', 'second', 'darn']);
      expect(held(b, rude.id)).toBeUndefined();
    } finally {
      killProcesses();
      await cluster.remove();
    }
  });
});

describe('the before-send check on /v4/ sends', () => {
  it("asks for a backend's REST send too: a refusal is 20006, a rewrite is what Bob gets, and ForbidBeforeSendMsgCallback skips the ask", async () => {
    const APP_ID = 1400000000;
    const KEY = 'the app secret key of this test';
    const sig = (id: string): string => hostedUserSig({ sdkAppId: APP_ID, secretKey: KEY, identifier: id, expire: 3600 });
    const { server, backend, bob, connect } = await setUp(
      (call) => {
        const text = textOf(call);
        if (text.includes('casino')) return { ActionStatus: 'FAIL', ErrorCode: 120010, ErrorInfo: 'No gambling ads, please' };
        if (text.includes('darn')) return { ...OK, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text.replace('darn', '****') } }] };
        return OK;
      },
      { PARLEY_COMPAT_SDKAPPID: String(APP_ID), PARLEY_COMPAT_SECRET_KEY: KEY },
    );
    const v4 = async (body: unknown): Promise<Record<string, unknown>> => {
      const query = new URLSearchParams({ sdkappid: String(APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '7', contenttype: 'json' });
      return (await (await fetch(`${server.url}/v4/openim/sendmsg?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    };
    const text = (t: string, random: number, extra: Record<string, unknown> = {}) => ({ From_Account: 'alice', To_Account: 'bob', MsgRandom: random, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }], ...extra });

    expect(await v4(text('Win big at the casino!', 1))).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 20006, ErrorInfo: expect.stringContaining('No gambling ads, please') as unknown });
    const rewritten = await v4(text('Oh darn, the train is late', 2));
    expect(rewritten).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    const skipped = await v4(text('casino night at the office, by HR', 3, { ForbidCallbackControl: ['ForbidBeforeSendMsgCallback'] }));
    expect(skipped).toMatchObject({ ActionStatus: 'OK' });
    expect(backend.calls.map(textOf)).toEqual(['Win big at the casino!', 'Oh darn, the train is late']);

    const bobDevice = await connect(bob.accessToken);
    await waitFor(() => bobDevice.doc.getMap<Message>('messages').size === 2, 'Bob has the two messages that went');
    const texts = [...bobDevice.doc.getMap<Message>('messages').values()].map((m) => m.body[0]?.type === 'text' ? m.body[0].text : '').sort();
    expect(texts).toEqual(['Oh ****, the train is late', 'casino night at the office, by HR']);
  });
});
