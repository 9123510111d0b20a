/** The after-send queue against the in-memory storage and a real HTTP receiver: order, giving up, and a clean stop. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createLog } from '../log.ts';
import { MemoryStorage } from '../storage/memory.ts';
import { AfterSendQueue } from './after-send.ts';
import { CallbackCaller } from './callback-http.ts';

interface Receiver {
  url: string;
  /** Each call's body, in arrival order. */
  calls: { conversation: string; n: number }[];
  /** The status to answer; null: never answer. */
  status: number | null;
  server: http.Server;
}

const opened: { receiver: Receiver; queue: AfterSendQueue }[] = [];

afterEach(async () => {
  for (const { receiver, queue } of opened.splice(0)) {
    await queue.close();
    receiver.server.closeAllConnections();
    await new Promise((resolve) => receiver.server.close(resolve));
  }
});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A queue over fresh memory storage holding `rows`, calling a receiver that answers `status`. */
async function setup(status: number | null, rows: { conversation: string; n: number }[], maxAttempts = 10) {
  const receiver: Receiver = { url: '', calls: [], status, server: http.createServer() };
  receiver.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.calls.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { conversation: string; n: number });
      if (receiver.status !== null) response.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  const storage = new MemoryStorage();
  await storage.commit(rows.map((row) => ({ kind: 'callback', conversation: row.conversation, msg: `m${row.n}`, payload: JSON.stringify(row), due: 0 })));
  const lines: string[] = [];
  const queue = new AfterSendQueue({
    storage,
    caller: new CallbackCaller({ url: `${origin}/callback`, allow: [origin], token: null }, 0),
    log: createLog('info', { write: (line: string) => lines.push(line) }),
    timeoutMs: 5000,
    retryMs: 1,
    maxAttempts,
    node: 'here',
    lone: true,
  });
  opened.push({ receiver, queue });
  return { storage, queue, receiver, lines };
}

it("sends each callback once, each conversation's in order", async () => {
  const rows = [
    { conversation: 'a/b', n: 1 },
    { conversation: 'a/c', n: 2 },
    { conversation: 'a/b', n: 3 },
    { conversation: 'a/c', n: 4 },
    { conversation: 'a/b', n: 5 },
  ];
  const { storage, queue, receiver } = await setup(200, rows);
  queue.start();
  await waitFor(async () => (await storage.queuedCallbacks()).length === 0, 'an empty queue');
  expect(receiver.calls.map((c) => c.n).sort()).toEqual([1, 2, 3, 4, 5]);
  expect(receiver.calls.filter((c) => c.conversation === 'a/b').map((c) => c.n)).toEqual([1, 3, 5]);
  expect(receiver.calls.filter((c) => c.conversation === 'a/c').map((c) => c.n)).toEqual([2, 4]);
});

it('puts a callback the backend refuses off, and gives it up, logged, after the last attempt', async () => {
  const { storage, queue, receiver, lines } = await setup(503, [{ conversation: 'a/b', n: 1 }], 3);
  queue.start();
  await waitFor(async () => (await storage.queuedCallbacks()).length === 0, 'the callback given up');
  expect(receiver.calls).toHaveLength(3);
  const events = lines.map((line) => JSON.parse(line) as { event?: string; attempts?: number; why?: string });
  expect(events.filter((e) => e.event === 'callback-put-off').map((e) => e.attempts)).toEqual([1, 2]);
  expect(events.find((e) => e.event === 'callback-given-up')).toMatchObject({ attempts: 3, why: 'the backend answered 503' });
});

it('stops with a call in flight: the call is aborted and its row released as it was, for the next process', async () => {
  const { storage, queue, receiver } = await setup(null, [{ conversation: 'a/b', n: 1 }]);
  queue.start();
  await waitFor(() => receiver.calls.length === 1, 'the call in flight');
  await queue.close();
  // Free for any process now (not only a lone one), and not counted as an attempt.
  expect(await storage.claimCallbacks('other', Date.now(), Date.now() + 1000, 10)).toMatchObject([{ msg: 'm1', attempts: 0 }]);
});
