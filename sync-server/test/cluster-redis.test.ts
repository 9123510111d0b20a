/**
 * Redis restarts under a running cluster (a Redis of the test's own, on a
 * port of its own, so that no other test loses its Redis): nothing durable
 * was in it, and the cluster recovers by itself. Messages written while it
 * was away are stored (the leader commits to PostgreSQL) and reach the other
 * process once Redis is back, and new ones flow across processes again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ROOTS, conversationPath } from '@parley/protocol';
import { startCluster, type TestCluster } from './cluster.ts';
import { cleanup, message, openDoc, send, signUp, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses } from './process.ts';
import { postgresUrl, redisUrl } from './services.ts';

const postgres = postgresUrl();
// Only to know that redis-server is installed here: this test runs its own.
const redis = redisUrl();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A Redis that keeps nothing on disk, as a cluster's should; resolves once it takes connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${String(code)}): ${output}`)));
  });
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const stampedIds = (client: Client): Set<string> => new Set(client.doc.getMap<number>(SERVER_ROOTS.seq).keys());

describe.runIf(postgres !== null && redis !== null)('a cluster whose Redis restarts', { timeout: 90_000 }, () => {
  let cluster: TestCluster;
  let redisServer: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redisServer = await startRedis(port);
    cluster = await startCluster(postgres ?? '', `redis://127.0.0.1:${port}`, 2);
  }, 60_000);
  afterEach(cleanup);
  afterAll(async () => {
    killProcesses();
    // While its Redis still runs: removing the cluster deletes its keys there.
    await cluster.remove();
    await stopRedis(redisServer);
  });

  it('loses nothing and carries messages across processes again once Redis is back', async () => {
    const [p1, p2] = cluster.processes.map((p) => p.server) as [TestServer, TestServer];
    const alice = await signUp(p1.url, 'alice', 'a1');
    const bob = await signUp(p2.url, 'bob', 'b1');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = openDoc(p1, path, alice.accessToken);
    await synced(a);
    const b = openDoc(p2, path, bob.accessToken);
    await synced(b);
    const before = message('alice', 'bob', 'before the restart');
    send(a, before);
    await waitFor(() => stampedIds(b).has(before.id), 'a message crosses processes');

    // Redis goes away; alice (on the leader's process, or its follower) writes meanwhile.
    await stopRedis(redisServer);
    const during = message('alice', 'bob', 'while Redis is away');
    send(a, during);

    redisServer = await startRedis(port);
    // Back: every process resyncs by itself (copies dropped, clients reconnect and sync again).
    await waitFor(() => stampedIds(a).has(during.id) && stampedIds(b).has(during.id), 'the message written during the outage on both processes', 30_000);
    const after = message('bob', 'alice', 'after the restart');
    send(b, after);
    await waitFor(() => stampedIds(a).has(after.id), 'messages cross processes again', 30_000);
    const seq = a.doc.getMap<number>(SERVER_ROOTS.seq);
    expect([before.id, during.id, after.id].map((id) => seq.get(id))).toEqual([1, 2, 3]);
  });
});
