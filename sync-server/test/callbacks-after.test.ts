/**
 * The after-send callback against real server processes, a real SQLite file
 * and a real HTTP receiver standing in for the app backend: what a message
 * sends, that each goes out exactly once across a stop and a crash, and that
 * a URL the server may not call is never called.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { msgRandomOf } from '../src/compat/keys.ts';
import { openDatabase } from '../src/storage/sqlite-db.ts';
import { inProcessStorage } from '../src/storage/sqlite/stores.ts';
import { acks, allBytes, api, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor, type Client } from './helpers.ts';
import { killProcesses, startProcess, stopProcess, type ServerProcess } from './process.ts';

const TOKEN = 'callback-token-for-tests';
const ADMIN_KEY = 'admin-key-for-callback-tests';

interface Call {
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The status the receiver answered. */
  status: number;
}

/** The app backend: records every call, checks its Sign, and answers `status`. */
interface Receiver {
  origin: string;
  calls: Call[];
  status: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { origin: '', calls: [], status: 200, close: () => Promise.resolve() };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const query = new URL(request.url ?? '/', 'http://receiver').searchParams;
      const signed = createHash('sha256').update(TOKEN + (query.get('RequestTime') ?? '')).digest('hex');
      const status = query.get('Sign') === signed ? r.status : 401;
      r.calls.push({ query, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

const receivers: Receiver[] = [];

afterEach(async () => {
  await cleanup();
  killProcesses();
  for (const r of receivers.splice(0)) await r.close();
});

async function backend(): Promise<Receiver> {
  const r = await receiver();
  receivers.push(r);
  return r;
}

/** The environment of a server that calls `r` (allowed unless `allowed` is false). */
function envFor(r: Receiver, allowed = true): Record<string, string> {
  return {
    PARLEY_CALLBACK_URL: `${r.origin}/callback`,
    PARLEY_CALLBACK_ALLOW: allowed ? r.origin : 'https://backend.example',
    PARLEY_CALLBACK_TOKEN: TOKEN,
    PARLEY_CALLBACK_RETRY_MS: '20',
    PARLEY_CALLBACK_MAX_ATTEMPTS: '1000',
    PARLEY_ADMIN_KEY: ADMIN_KEY,
  };
}

/** The calls the backend took (answered 200), by MsgKey. */
function taken(r: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of r.calls) if (call.status === 200) counts.set(String(call.body.MsgKey), (counts.get(String(call.body.MsgKey)) ?? 0) + 1);
  return counts;
}

/** Alice's socket on her conversation with bob (both signed up when `signUpToo`). */
async function aliceToBob(p: ServerProcess, signUpToo: boolean): Promise<Client> {
  if (signUpToo) await signUp(p.server.url, 'bob');
  const alice = signUpToo ? await signUp(p.server.url, 'alice') : await api<{ accessToken: string }>(p.server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'test-device' }).then((r) => r.body);
  const client = openDoc(p.server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(client);
  return client;
}

it("sends a user's and an admin's message to the backend with the hosted service's fields, and no imported one", async () => {
  const r = await backend();
  const p = await startProcess(tempDir(), { env: envFor(r) });
  const a = await aliceToBob(p, true);
  const sent = message('alice', 'bob', 'hello backend');
  send(a, sent);
  await waitFor(() => taken(r).has(sent.id), 'the callback of the user message');
  const [call] = r.calls;
  expect(Object.fromEntries(call?.query ?? [])).toMatchObject({ SdkAppid: '0', CallbackCommand: 'C2C.CallbackAfterSendMsg', contenttype: 'json', OptPlatform: 'RESTAPI' });
  expect(call?.body).toEqual({
    CallbackCommand: 'C2C.CallbackAfterSendMsg',
    From_Account: 'alice',
    To_Account: 'bob',
    MsgSeq: 1,
    MsgRandom: msgRandomOf(sent.id),
    MsgTime: Math.floor(sent.ts / 1000),
    MsgKey: sent.id,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    ErrorInfo: 'send msg succeed',
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello backend' } }],
    CloudCustomData: '',
    EventTime: expect.any(Number) as number,
  });
  expect(call?.body.EventTime).toBeGreaterThanOrEqual(sent.ts - 60_000);

  // An import first, then an admin send in the same conversation: callbacks go in order, so the import's would come first.
  const imported = await api(p.server.url, 'POST', '/admin/messages/import', { messages: [{ id: 'old-1', from: 'bob', to: 'alice', body: [{ type: 'text', text: 'from the old service' }], ts: Date.UTC(2024, 0, 2) }] }, ADMIN_KEY);
  expect(imported.status).toBe(200);
  const admin = await api<{ id: string }>(p.server.url, 'POST', '/admin/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text: 'from the admin' }] }, ADMIN_KEY);
  expect(admin.status).toBe(201);
  await waitFor(() => taken(r).has(admin.body.id), 'the callback of the admin send');
  expect(r.calls.map((c) => [c.body.MsgKey, c.body.MsgSeq, c.body.From_Account])).toEqual([
    [sent.id, 1, 'alice'],
    [admin.body.id, 3, 'bob'],
  ]);
  expect(r.calls.at(-1)?.body.MsgBody).toEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: 'from the admin' } }]);
  a.destroy();
}, 60_000);

it('delivers every callback exactly once across a stop and a crash while the backend was failing', async () => {
  const r = await backend();
  r.status = 500;
  const dataDir = tempDir();
  const env = envFor(r);
  const keys: string[] = [];

  // 1: messages whose callbacks the backend refuses, then a clean stop (SIGTERM) with rows claimed or in flight.
  const first = await startProcess(dataDir, { env });
  const a1 = await aliceToBob(first, true);
  for (let i = 0; i < 12; i++) {
    const m = message('alice', 'bob', `before the stop ${i}`);
    keys.push(m.id);
    send(a1, m);
  }
  await waitFor(() => acks(a1).length === 12, 'acks before the stop');
  await waitFor(() => keys.every((k) => r.calls.some((c) => c.body.MsgKey === k)), 'a refused attempt of each', 15_000);
  a1.destroy();
  await stopProcess(first, 'SIGTERM');

  // 2: more messages, then a crash (SIGKILL) right after their acks.
  const second = await startProcess(dataDir, { env });
  const a2 = await aliceToBob(second, false);
  for (let i = 0; i < 6; i++) {
    const m = message('alice', 'bob', `before the crash ${i}`);
    keys.push(m.id);
    send(a2, m);
  }
  await waitFor(() => acks(a2).length === 6, 'acks before the crash');
  await stopProcess(second, 'SIGKILL');
  a2.destroy();
  expect(taken(r).size).toBe(0);

  // 3: the backend takes calls again; a new process sends every queued one, once.
  r.status = 200;
  const third = await startProcess(dataDir, { env });
  await waitFor(() => keys.every((k) => taken(r).has(k)), 'every callback taken', 60_000);
  await stopProcess(third, 'SIGTERM');
  const counts = taken(r);
  expect(keys.map((k) => counts.get(k))).toEqual(keys.map(() => 1));
  expect(counts.size).toBe(keys.length);
  // Nothing is left to send again.
  const storage = inProcessStorage(openDatabase(join(dataDir, 'parley.db')));
  expect(await storage.queuedCallbacks()).toEqual([]);
  await storage.close();
}, 120_000);

it('never calls a callback URL at a local address the allow-list does not name, and logs why', async () => {
  const r = await backend();
  const p = await startProcess(tempDir(), { env: envFor(r, false) });
  const a = await aliceToBob(p, true);
  send(a, message('alice', 'bob', 'not for a local address'));
  await waitFor(() => acks(a).length === 1, 'the ack');
  const putOff = (): { why?: string } | undefined =>
    p.lines.map((line) => JSON.parse(line) as { event?: string; why?: string }).find((event) => event.event === 'callback-put-off');
  await waitFor(() => putOff() !== undefined, 'the log line of the refused call');
  expect(putOff()?.why).toMatch(/callback URL is refused.*PARLEY_CALLBACK_ALLOW/);
  expect(r.calls).toEqual([]);
  a.destroy();
}, 60_000);

it("drops a recalled message's queued callback, so no file of the data dir keeps its text", async () => {
  const r = await backend();
  r.status = 500;
  const dataDir = tempDir();
  const p = await startProcess(dataDir, { env: envFor(r) });
  const a = await aliceToBob(p, true);
  const word = `quokkaword${Date.now().toString(36)}`;
  const m = message('alice', 'bob', `a secret: ${word}`);
  send(a, m);
  await waitFor(() => r.calls.some((c) => c.body.MsgKey === m.id), 'a refused attempt');
  a.doc.transact(() => {
    a.doc.getMap('recalls').set(m.id, { by: 'alice', ts: Date.now() });
    a.doc.getMap('messages').delete(m.id);
  });
  await waitFor(() => !allBytes(dataDir).includes(word), 'erasure from the data dir', 15_000);
  a.destroy();
  await stopProcess(p, 'SIGTERM');
  expect(allBytes(dataDir)).not.toContain(word);
  const storage = inProcessStorage(openDatabase(join(dataDir, 'parley.db')));
  expect(await storage.queuedCallbacks()).toEqual([]);
  await storage.close();
}, 60_000);
