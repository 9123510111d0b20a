/**
 * Three Parley processes on one PostgreSQL and one Redis: alice's two
 * devices on two of them and bob on the third exchange messages, receipts,
 * edits, recalls, presence and typing, and every device ends with the same
 * messages in the same order; "online" and sign-out hold across processes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ROOTS, conversationPath, inboxPath, type Session } from '@parley/protocol';
import { startCluster, type TestCluster } from './cluster.ts';
import { acks, api, cleanup, message, openDoc, send, sessionIdOf, signUp, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses } from './process.ts';
import { postgresUrl, redisUrl } from './services.ts';

const postgres = postgresUrl();
const redis = redisUrl();

async function signIn(server: TestServer, user: string, device: string): Promise<Session> {
  const { status, body } = await api<Session>(server.url, 'POST', '/auth/signin', { user, password: 'correct horse', device });
  if (status !== 200) throw new Error(`sign-in failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

async function connect(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

/** Asks `read` until `done` holds of its answer (5 s at most): the last answer. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const start = Date.now();
  let value = await read();
  while (!done(value) && Date.now() - start < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

/** The messages a device holds, by the server's sequence: ids in order, and whether every one is stamped. */
function ordered(client: Client): { ids: string[]; seqs: number[] } {
  const seq = client.doc.getMap<number>(SERVER_ROOTS.seq);
  const rows = [...client.doc.getMap('messages').keys()].map((id) => ({ id, seq: seq.get(id) ?? 0 }));
  rows.sort((a, b) => a.seq - b.seq);
  return { ids: rows.map((r) => r.id), seqs: rows.map((r) => r.seq) };
}

describe.runIf(postgres !== null && redis !== null)('a cluster of three processes', { timeout: 60_000 }, () => {
  // One cluster for both tests (each with users of its own): starting three processes is most of the time.
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(postgres ?? '', redis ?? '', 3);
  }, 60_000);
  afterEach(cleanup);
  afterAll(async () => {
    killProcesses();
    await cluster.remove();
  });

  it('keeps alice on two processes and bob on a third in one conversation, in one order', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const alice1 = await signUp(p1.url, 'alice', 'a1');
    const alice2 = await signIn(p2, 'alice', 'a2');
    const bob = await signUp(p3.url, 'bob', 'b1');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a1 = await connect(p1, path, alice1.accessToken);
    const a2 = await connect(p2, path, alice2.accessToken);
    const b1 = await connect(p3, path, bob.accessToken);
    const devices = [a1, a2, b1];

    // Messages from all three devices, interleaved, several in flight at once.
    const sent: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (const [client, from, to] of [
        [a1, 'alice', 'bob'],
        [b1, 'bob', 'alice'],
        [a2, 'alice', 'bob'],
      ] as const) {
        const m = message(from, to, `round ${round} from ${from}`);
        sent.push(m.id);
        send(client, m);
      }
    }
    await waitFor(() => devices.every((d) => ordered(d).seqs.filter((s) => s > 0).length === sent.length), 'every message stamped on every device', 15_000);
    const orders = devices.map((d) => ordered(d));
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(orders[0]?.seqs).toEqual(sent.map((_, i) => i + 1));
    expect(new Set(orders[0]?.ids)).toEqual(new Set(sent));
    await waitFor(() => [...new Set([...acks(a1), ...acks(a2), ...acks(b1)])].length === sent.length, 'every message acknowledged to its sender');

    // A receipt, an edit and a recall, each from a different process.
    b1.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: sent.length });
    const first = sent[0] ?? '';
    a2.doc.getMap('edits').set(`${first}|1`, { msg: first, from: 'alice', n: 1, text: 'edited on a2', ts: Date.now() });
    const recalled = sent[3] ?? '';
    a1.doc.transact(() => {
      a1.doc.getMap('recalls').set(recalled, { by: 'alice', ts: Date.now() });
      a1.doc.getMap('messages').delete(recalled);
    });
    await waitFor(
      () =>
        devices.every(
          (d) =>
            (d.doc.getMap('receipts').get('bob|read') as { seq?: number } | undefined)?.seq === sent.length &&
            d.doc.getMap('edits').has(`${first}|1`) &&
            d.doc.getMap('recalls').has(recalled) &&
            !d.doc.getMap('messages').has(recalled),
        ),
      'the receipt, the edit and the recall on every device',
      10_000,
    );
    const after = devices.map((d) => ordered(d));
    expect(after[1]).toEqual(after[0]);
    expect(after[2]).toEqual(after[0]);
    expect(after[0]?.ids).toEqual(orders[0]?.ids.filter((id) => id !== recalled));

    // A device that opens the conversation later, on any process, gets the same history.
    const late = await connect(p2, path, bob.accessToken);
    await waitFor(() => ordered(late).ids.length === sent.length - 1, 'the late device has the history');
    expect(ordered(late)).toEqual(after[0]);
  });

  it('carries presence, typing, online and sign-out across processes', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const carol1 = await signUp(p1.url, 'carol', 'a1');
    const carol2 = await signIn(p2, 'carol', 'a2');
    const dave = await signUp(p3.url, 'dave', 'b1');
    const path = conversationPath('carol', 'dave', thisSegment());
    const a1 = await connect(p1, path, carol1.accessToken);
    const b1 = await connect(p3, path, dave.accessToken);
    const daveInbox = await connect(p3, inboxPath('dave'), dave.accessToken);

    // Typing on process 1 reaches dave's conversation (process 3) and his inbox, relayed by the server.
    a1.provider.awareness.setLocalStateField('typing', 'dave');
    const typingIn = (client: Client): boolean =>
      [...client.provider.awareness.getStates().values()].some((s) => (s as { user?: unknown; typing?: unknown }).user === 'carol' && (s as { typing?: unknown }).typing === 'dave');
    await waitFor(() => typingIn(b1), "carol's typing in dave's conversation");
    const relayed = (): boolean =>
      [...daveInbox.provider.awareness.getStates().entries()].some(
        ([client, s]) => client !== daveInbox.doc.clientID && Array.isArray((s as { typing?: unknown }).typing) && ((s as { typing: unknown[] }).typing).includes('carol'),
      );
    await waitFor(relayed, "carol's typing relayed into dave's inbox");
    a1.provider.awareness.setLocalStateField('typing', null);
    await waitFor(() => !typingIn(b1) && !relayed(), 'typing stops everywhere');

    // carol's second device goes online on process 2: every process says so.
    const adminKey = cluster.adminKey();
    const onlineSeenBy = async (server: TestServer): Promise<string[]> =>
      (await api<{ devices: string[] }>(server.url, 'GET', '/admin/users/carol/online', undefined, adminKey)).body.devices;
    const inbox2 = await connect(p2, inboxPath('carol'), carol2.accessToken);
    for (const server of [p1, p2, p3]) expect(await until(() => onlineSeenBy(server), (devices) => devices.includes('a2'))).toContain('a2');
    inbox2.destroy();
    for (const server of [p1, p3]) expect(await until(() => onlineSeenBy(server), (devices) => !devices.includes('a2'))).not.toContain('a2');

    // Signing carol's first device out through process 2 closes its socket on process 1.
    const signedOut = await api(p2.url, 'DELETE', `/me/sessions/${sessionIdOf(carol1)}`, undefined, carol2.accessToken);
    expect(signedOut.status).toBe(204);
    await waitFor(() => a1.closeCode !== null, "carol's first device's socket closes on process 1");
  });
});
