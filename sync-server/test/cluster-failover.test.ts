/**
 * The leader of a busy conversation dies (SIGKILL) in the middle of a burst
 * of messages written through two other processes: another process takes
 * the document over within a few sweeps, the writers' clients reconnect and
 * send again what was never acknowledged, and in the end every acknowledged
 * message is stored exactly once, with unique sequence stamps.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ROOTS, conversationId, conversationPath } from '@parley/protocol';
import { startCluster, type TestCluster } from './cluster.ts';
import { acks, api, cleanup, message, openDoc, send, signUp, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses } from './process.ts';
import { postgresUrl, redisUrl } from './services.ts';

const postgres = postgresUrl();
const redis = redisUrl();

const BEFORE_KILL = 30;
const AFTER_KILL = 30;

async function connect(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

describe.runIf(postgres !== null && redis !== null)('failover in a cluster', { timeout: 90_000 }, () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(postgres ?? '', redis ?? '', 3);
  }, 60_000);
  afterEach(cleanup);
  afterAll(async () => {
    killProcesses();
    await cluster.remove();
  });

  it('loses no acknowledged message and stamps each once when the leader is killed mid-burst', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const alice = await signUp(p2.url, 'alice', 'a1');
    const bob = await signUp(p3.url, 'bob', 'b1');
    const path = conversationPath('alice', 'bob', thisSegment());
    // Opened on process 1 first, so that process 1 leads it; the writers are on 2 and 3.
    const watcher = await connect(p1, path, alice.accessToken);
    const a = await connect(p2, path, alice.accessToken);
    const b = await connect(p3, path, bob.accessToken);
    const writers: [Client, string, string][] = [
      [a, 'alice', 'bob'],
      [b, 'bob', 'alice'],
    ];
    const sent: string[] = [];
    const write = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const [client, from, to] = writers[sent.length % 2] as [Client, string, string];
        const m = message(from, to, `burst ${sent.length}`);
        sent.push(m.id);
        send(client, m);
      }
    };
    const acked = (): Set<string> => new Set([...acks(a), ...acks(b)]);

    // The burst: half written and acknowledged, more in flight, then the leader dies.
    write(BEFORE_KILL);
    await waitFor(() => acked().size >= BEFORE_KILL / 2, 'half the burst acknowledged', 10_000);
    write(10);
    const leader = cluster.processes[0];
    if (leader === undefined) throw new Error('no leader process');
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    watcher.destroy();
    const ackedBeforeKill = acked().size;

    // Writes go on through the surviving processes; the first acknowledgement after the kill is the takeover.
    write(AFTER_KILL);
    await waitFor(() => acked().size > ackedBeforeKill, 'a write acknowledged after the kill', 20_000);
    const recoveredMs = Date.now() - killedAt;
    // A message the old leader committed but could not acknowledge is not acknowledged again (the writer sees it
    // stamped, as the app does): every one must reach both writers stamped.
    const stamped = (client: Client): number => sent.filter((id) => client.doc.getMap<number>(SERVER_ROOTS.seq).has(id)).length;
    await waitFor(() => stamped(a) === sent.length && stamped(b) === sent.length, 'every message stamped on both writers', 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${stamped(a)} and ${stamped(b)} of ${sent.length} stamped, ${acked().size} acknowledged`);
    });
    const ackedIds = acked();
    console.info(`failover: writes acknowledged again ${recoveredMs} ms after the leader was killed (sweep ${cluster.env.PARLEY_CLUSTER_SWEEP_MS} ms)`);

    // Every device ends with every message, each stamped once, the stamps 1..n.
    const fresh = await connect(p2, path, bob.accessToken);
    await waitFor(() => fresh.doc.getMap('messages').size === sent.length, 'a fresh device has every message', 10_000);
    const seq = fresh.doc.getMap<number>(SERVER_ROOTS.seq);
    const stamps = sent.map((id) => seq.get(id) ?? 0).sort((x, y) => x - y);
    expect(stamps).toEqual(sent.map((_, i) => i + 1));

    // And the message index in PostgreSQL holds each once.
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string; seq: string }>('SELECT id, seq FROM msg_index WHERE conversation = $1', [conversationId('alice', 'bob')]);
      expect(rows.length).toBe(sent.length);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(sent));
      expect(new Set(rows.map((r) => r.seq)).size).toBe(sent.length);
    } finally {
      await db.end();
    }
    // A user who asks the history over HTTP from a surviving process sees them all.
    expect(sent.filter((id) => ackedIds.has(id)).length).toBe(ackedIds.size);
    const history = await api<{ messages: unknown[] }>(p3.url, 'GET', `/conversations/alice/history?limit=100`, undefined, bob.accessToken);
    expect(history.status).toBe(200);
    expect(history.body.messages.length).toBe(sent.length);
  });
});
