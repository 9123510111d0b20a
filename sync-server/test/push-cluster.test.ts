/**
 * The push queue and the subscription cache shared by the processes of a
 * cluster: several PushQueues on one real database (SQLite, and PostgreSQL
 * when it is reachable: each a process with its own connection and claims),
 * a real Redis bus between them, pushing to the local
 * push service that verifies and decrypts every request. Each push is
 * delivered exactly once, whichever process is alive.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushPayload } from '@parley/protocol';
import type { Bus } from '../src/cluster/bus.ts';
import { loadConfig } from '../src/config.ts';
import { createLog } from '../src/log.ts';
import { PushEndpoints } from '../src/push/endpoints.ts';
import { PushQueue, type NewPush } from '../src/push/queue.ts';
import { PushSender } from '../src/push/sender.ts';
import { subscriptionRecord } from '../src/push/subscription.ts';
import { PushSubscriptions } from '../src/push/subscriptions.ts';
import { loadVapid } from '../src/push/vapid.ts';
import { PostgresStorage } from '../src/storage/postgres.ts';
import { SqliteStorage } from '../src/storage/sqlite.ts';
import type { Storage } from '../src/storage/storage.ts';
import { cleanup, tempDir, waitFor } from './helpers.ts';
import { FakePushService } from './push-service.ts';
import { buses, closeBuses } from './redis-bus.ts';
import { freshSchema, postgresUrl, redisUrl } from './services.ts';

const DEVICES = ['d0', 'd1', 'd2', 'd3'];

interface Node {
  queue: PushQueue;
  subscriptions: PushSubscriptions;
  close(): Promise<void>;
}

const opened: (() => Promise<void>)[] = [];
let service: FakePushService | undefined;

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
  await closeBuses();
  await service?.close();
  service = undefined;
  await cleanup();
});

/** The database the processes share: how a process connects to it, and how it goes after the test. */
type Database = (dataDir: string) => Promise<{ connect: () => Promise<Storage>; drop: () => Promise<void> }>;

/** A SQLite file, each process with a connection (and writer thread) of its own. */
const sqlite: Database = (dataDir) => {
  const file = join(dataDir, 'parley.db');
  return Promise.resolve({ connect: () => SqliteStorage.open(file), drop: () => Promise.resolve() });
};

/** A fresh PostgreSQL schema, each process with a pool of its own. */
const postgres =
  (url: string): Database =>
  async () => {
    const { schema, drop } = await freshSchema(url);
    return { connect: () => PostgresStorage.open({ url, max: 4, schema }), drop };
  };

const pgUrl = postgresUrl();
const DATABASES: [string, Database][] = [['sqlite', sqlite], ...(pgUrl === null ? [] : [['postgres', postgres(pgUrl)] as [string, Database]])];

/** The local push service, a data dir, and bob's devices subscribed at it in a fresh database. */
async function setup(claimMs: number, database: Database = sqlite) {
  service = await FakePushService.start();
  const dataDir = tempDir();
  const config = loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PUSH_ALLOW: service.url, PARLEY_VAPID_SUBJECT: 'mailto:ops@parley.example', PARLEY_PUSH_CLAIM_MS: String(claimMs) });
  const { connect, drop } = await database(dataDir);
  opened.push(drop);
  /** A connection to the database, as each process has its own. */
  const storage = async (): Promise<Storage> => {
    const s = await connect();
    opened.push(() => s.close());
    return s;
  };
  const first = await storage();
  for (const device of DEVICES) await first.putPushSubscription(subscriptionRecord('bob', device, service.subscription(device), 1));
  const vapid = loadVapid(dataDir, config.vapidSubject);

  /** A process's push queue (with no bus: alone), started. */
  const node = async (on: Storage, bus?: Bus): Promise<Node> => {
    const subscriptions = new PushSubscriptions(on, 100, bus);
    const sender = new PushSender(vapid, new PushEndpoints(config.pushAllow));
    const queue = new PushQueue({
      storage: on,
      subscriptions,
      sender,
      log: createLog(process.env.DEBUG_PUSH === '1' ? 'debug' : 'silent'),
      retryBaseMs: 5,
      node: bus?.node ?? randomBytes(8).toString('hex'),
      claimMs: config.pushClaimMs,
      ...(bus === undefined ? {} : { bus }),
      online: () => Promise.resolve(false),
    });
    await queue.start();
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closed ??= (async () => {
        await queue.close();
        subscriptions.close();
        sender.close();
      })());
    opened.push(close);
    return { queue, subscriptions, close };
  };
  return { service, storage, first, node };
}

/** A push announcing message `id` to one of bob's devices (spread over them by number). */
function push(n: number): NewPush {
  const payload: PushPayload = {
    v: 1,
    kind: 'message',
    peer: 'alice',
    doc: 'c/alice/bob/2026-12',
    sender: { id: 'alice', nickname: 'Alice' },
    message: { id: `m${n}`, seq: n, ts: 1, type: 'text', preview: `hello ${n}` },
    unread: 1,
  };
  return { user: 'bob', device: DEVICES[n % DEVICES.length] ?? 'd0', payload: JSON.stringify(payload), urgency: 'high', topic: 'alice' };
}

/** How many times the push service took (201) each message's push. */
function deliveries(at: FakePushService): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of at.received) if (r.status === 201) counts.set(r.payload.message.id, (counts.get(r.payload.message.id) ?? 0) + 1);
  return counts;
}

/** waitFor, for a condition that reads storage. */
async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  let met = false;
  const check = (): void => {
    void condition().then((now) => (met = now));
  };
  check();
  await waitFor(() => {
    if (!met) check();
    return met;
  }, what);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe.skipIf(redisUrl() === null).each(DATABASES)('the push queue of a cluster on %s', (_name, database) => {
  it('delivers a burst queued on two processes, and a dead process\'s rows both sweep for, each exactly once', async () => {
    const { service, first, node } = await setup(2000, database);
    // 40 rows of a process that died long ago: free for the first sweep of either.
    await first.enqueuePushes(range(0, 40).map((n) => ({ ...push(n), created: Date.now(), attempts: 0, due: Date.now() })), 'dead', 0);
    const [busA, busB] = await buses(2);
    const [a, b] = await Promise.all([node(first, busA), node(first, busB)]);
    a.queue.enqueue(range(40, 70).map(push));
    b.queue.enqueue(range(70, 100).map(push));
    await waitFor(() => deliveries(service).size === 100, 'every push delivered', 10_000);
    await Promise.all([a.queue.idle(), b.queue.idle()]);
    expect(service.errors).toEqual([]);
    expect([...deliveries(service).values()].every((count) => count === 1)).toBe(true);
    expect(await first.queuedPushes()).toEqual([]);
  });

  it('sends the rows of a process that died mid-way once its claims run out, and not before', async () => {
    const claimMs = 600;
    const { service, storage, node } = await setup(claimMs, database);
    const [busA, busB] = await buses(2);
    const storageA = await storage();
    const a = await node(storageA, busA);
    const b = await node(await storage(), busB);
    // a's first request to each device is never answered: a is stuck sending when it dies.
    for (const device of DEVICES) service.answer(device, 'hold');
    a.queue.enqueue(range(0, 16).map(push));
    await waitFor(() => service.received.length === DEVICES.length, 'a request to each device under way');
    // a dies: its database connection goes with it, so it cannot release its claims.
    const died = Date.now();
    await storageA.close();
    await a.close();
    expect(deliveries(service).size).toBe(0);
    await waitFor(() => deliveries(service).size > 0, 'b\'s first delivery', 10_000);
    // a renewed its claims at most a third of a claim before it died.
    expect(Date.now() - died).toBeGreaterThanOrEqual((claimMs * 2) / 3);
    await waitFor(() => deliveries(service).size === 16, 'every push delivered by b', 10_000);
    await b.queue.idle();
    expect([...deliveries(service).values()].every((count) => count === 1)).toBe(true);
  });

});

describe.skipIf(redisUrl() === null)('the push queue of a cluster', () => {
  it('hands the rows of a process that stops over to the others at their next sweep, well before its claims would run out', async () => {
    const claimMs = 1500;
    const { service, first, node } = await setup(claimMs);
    const [busA, busB] = await buses(2);
    const a = await node(first, busA);
    const b = await node(first, busB);
    for (const device of DEVICES) service.answer(device, 'hold');
    a.queue.enqueue(range(0, 16).map(push));
    await waitFor(() => service.received.length === DEVICES.length, 'a request to each device under way');
    const stopped = Date.now();
    await a.close();
    await waitFor(() => deliveries(service).size === 16, 'every push delivered by b', 10_000);
    expect(Date.now() - stopped).toBeLessThan((claimMs * 2) / 3);
    await b.queue.idle();
    expect([...deliveries(service).values()].every((count) => count === 1)).toBe(true);
  });

  it('drops the pushes of a recalled message on every process, a dead one\'s included', async () => {
    const claimMs = 1500;
    const { service, first, node } = await setup(claimMs);
    const [busA, busB, busC] = await buses(3);
    // b only sweeps: it may claim the dead process's rows, so it must hear the recall too.
    const [a, , c] = await Promise.all([node(first, busA), node(first, busB), node(first, busC)]);
    // m0's and m1's pushes held by a process that died a moment ago: claimable once its claim runs out.
    const now = Date.now();
    await first.enqueuePushes([0, 1].map((n) => ({ ...push(n), created: now, attempts: 0, due: now })), 'dead', now + claimMs);
    // a holds m10 behind a request to d2 that is never answered (same lane: d2).
    service.answer('d2', 'hold');
    a.queue.enqueue([push(2), push(10)]);
    await waitFor(() => service.to('d2').length === 1, 'the held request');
    // The recall is accepted on a third process.
    c.queue.forget('m10');
    c.queue.forget('m0');
    await waitFor(() => deliveries(service).size === 1, 'm1 delivered once the dead process\'s claim ran out', 10_000);
    await eventually(async () => (await first.queuedPushes()).length === 1, 'only the held push left');
    expect([...deliveries(service).keys()]).toEqual(['m1']);
    expect((await first.queuedPushes()).map((p) => JSON.parse(p.payload) as PushPayload).map((p) => p.message.id)).toEqual(['m2']);
  });

  it('takes up, alone, every row at start, whoever held it', async () => {
    const { service, first, node } = await setup(60_000);
    const now = Date.now();
    await first.enqueuePushes(range(0, 8).map((n) => ({ ...push(n), created: now, attempts: 0, due: now })), 'previous-life', now + 60_000);
    const alone = await node(first);
    await alone.queue.idle();
    expect(deliveries(service).size).toBe(8);
  });

  it('clears every process\'s subscription cache when one changes a subscription', async () => {
    const { service, first, node } = await setup(30_000);
    const [busA, busB] = await buses(2);
    const a = await node(first, busA);
    const b = await node(first, busB);
    expect((await b.subscriptions.of('bob')).map((s) => s.device)).toEqual(DEVICES);
    await a.subscriptions.delete('bob', 'd0');
    await eventually(async () => (await b.subscriptions.of('bob')).length === DEVICES.length - 1, 'b sees d0 gone');
    // carol signs in on bob's d1 browser: its endpoint is hers now.
    await a.subscriptions.put(subscriptionRecord('carol', 'd1', service.subscription('d1'), 2));
    await b.subscriptions.of('carol');
    await eventually(async () => (await b.subscriptions.of('bob')).length === DEVICES.length - 2, 'b sees d1 taken');
  });
});
