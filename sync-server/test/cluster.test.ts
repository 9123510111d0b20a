/**
 * Three Parley processes on one PostgreSQL and one Redis: alice's two
 * devices on two of them and bob on the third exchange messages, receipts,
 * edits, recalls, presence and typing, and every device ends with the same
 * messages in the same order; "online", last seen, privacy settings and
 * sign-out hold across processes,
 * and a push goes out once (to the local push service, which decrypts it),
 * whichever process queued it, and not at all to a device online elsewhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ROOTS, conversationPath, inboxPath, segmentOf, type Message, type Session } from '@parley/protocol';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startCluster, type TestCluster } from './cluster.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { getMedia, MediaClient, sha256, streamTo } from './media-client.ts';
import { startProcess } from './process.ts';
import { HoldProxy } from './hold-proxy.ts';
import { acks, api, cleanup, message, rejects, openDoc, send, sessionIdOf, signUp, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses } from './process.ts';
import { FakePushService } from './push-service.ts';
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

/**
 * `a` and `b` signed up, `a`'s device on their conversation on `server`
 * (opened there first, so that this process leads it) and one message of
 * `a`'s acknowledged; with last month's path of the same conversation.
 */
async function ledConversation(server: TestServer, a: string, b: string): Promise<{ path: string; lastMonth: string; writer: Client; first: Message; sessions: [Session, Session] }> {
  const sessions: [Session, Session] = [await signUp(server.url, a, `${a}-1`), await signUp(server.url, b, `${b}-1`)];
  const path = conversationPath(a, b, thisSegment());
  const month = new Date();
  month.setUTCDate(1);
  month.setUTCMonth(month.getUTCMonth() - 1);
  const writer = await connect(server, path, sessions[0].accessToken);
  const first = message(a, b, 'before');
  send(writer, first);
  await waitFor(() => acks(writer).includes(first.id), 'the first message acknowledged', 15_000);
  return { path, lastMonth: conversationPath(a, b, segmentOf(month.getTime())), writer, first, sessions };
}

/** Asks `read` until `done` holds of its answer (`ms`, 5 s by default, at most): the last answer. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 5000): Promise<T> {
  const start = Date.now();
  let value = await read();
  while (!done(value) && Date.now() - start < ms) {
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
  let service: FakePushService;
  beforeAll(async () => {
    service = await FakePushService.start();
    cluster = await startCluster(postgres ?? '', redis ?? '', 3, { PARLEY_PUSH_ALLOW: service.url, PARLEY_VAPID_SUBJECT: 'mailto:ops@parley.example', PARLEY_PUSH_RETRY_MS: '5' });
  }, 60_000);
  afterEach(cleanup);
  afterAll(async () => {
    killProcesses();
    await cluster.remove();
    await service.close();
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

  it('deletes an account through a process that does not lead its conversation: the leader recalls its messages, and every process refuses new ones to it', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const { path, first, sessions } = await ledConversation(p1, 'dora', 'ed');
    const ed = await connect(p2, path, sessions[1].accessToken);
    await waitFor(() => ed.doc.getMap('messages').has(first.id), 'ed has dora\'s message');
    const deleted = await api(p3.url, 'DELETE', '/me', { password: 'correct horse' }, sessions[0].accessToken);
    expect(deleted.status).toBe(200);
    await waitFor(() => ed.doc.getMap('recalls').has(first.id) && !ed.doc.getMap('messages').has(first.id), 'the recall reaches ed on another process', 15_000);
    const late = message('ed', 'dora', 'still there?');
    send(ed, late);
    await waitFor(() => rejects(ed).some((r) => r.msgIds.includes(late.id)), 'the refusal', 15_000);
    expect(rejects(ed).find((r) => r.msgIds.includes(late.id))?.code).toBe('account-deleted');
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
    // Dave's socket on process 3 hears her online (her app open on process 2), then last seen when it closes.
    const peerOf = (client: Client) => client.frames.filter((f) => f.type === 'peer').at(-1);
    await waitFor(() => peerOf(b1)?.online === true, 'carol online for dave, across processes');
    inbox2.destroy();
    for (const server of [p1, p3]) expect(await until(() => onlineSeenBy(server), (devices) => !devices.includes('a2'))).not.toContain('a2');
    await waitFor(() => peerOf(b1)?.online === false && typeof peerOf(b1)?.lastSeen === 'number', 'carol last seen, across processes');
    // A privacy change made through process 1 reaches dave's socket on process 3.
    expect((await api(p1.url, 'PATCH', '/me/privacy', { readReceipts: false }, carol1.accessToken)).status).toBe(200);
    await waitFor(() => peerOf(b1)?.readReceipts === false, 'her receipts setting, across processes');

    // Signing carol's first device out through process 2 closes its socket on process 1.
    const signedOut = await api(p2.url, 'DELETE', `/me/sessions/${sessionIdOf(carol1)}`, undefined, carol2.accessToken);
    expect(signedOut.status).toBe(204);
    await waitFor(() => a1.closeCode !== null, "carol's first device's socket closes on process 1");
  });

  it('serves every upload from every process, resumes an upload on another one, and a process starting keeps the others\' uploads', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const erin = await signUp(p1.url, 'erin', 'e1');
    const frank = await signUp(p2.url, 'frank', 'f1');
    // Two and a half chunks: the first chunk goes to process 1, the rest to process 2.
    const bytes = new Uint8Array(randomBytes(2.5 * 1024 * 1024));
    const on1 = new MediaClient(p1.url, erin.accessToken);
    const created = await on1.create(bytes, { kind: 'file', peer: 'frank', mime: 'application/octet-stream', name: 'big.bin' });
    expect(created.status).toBe(201);
    const first = await on1.put(created.body.id, 0, bytes.subarray(0, created.body.chunkSize));
    expect(first.status).toBe(200);

    // A one-shot upload is half sent to process 3 (its file in the shared dir has no row yet) when a fourth process
    // starts on the same data dir: the new process must leave that file alone, and the upload ends whole.
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const half = Buffer.alloc(1024 * 1024, 0x62);
    let pushed = 0;
    const body = Object.assign(
      new Readable({
        read() {
          if (pushed === 2) return void this.push(null);
          pushed++;
          if (pushed === 1) this.push(half);
          else void gate.then(() => this.push(half));
        },
      }),
      { produced: () => pushed * half.length },
    );
    const oneShot = streamTo(p3.url, '/media?kind=file&peer=frank&mime=application/octet-stream&name=two.bin', erin.accessToken, body);
    await waitFor(() => readdirSync(join(cluster.dataDir, 'uploads')).some((name) => name.endsWith('.part')), 'the one-shot upload under way');
    const fourth = await startProcess(cluster.dataDir, { env: cluster.env });
    open();
    const shot = await oneShot;
    expect(shot.status).toBe(201);
    expect((shot.body as { media?: { hash: string } }).media?.hash).toBe(sha256(Buffer.concat([half, half])));
    const on2 = new MediaClient(p2.url, erin.accessToken);
    await on2.resume(created.body.id, bytes);
    const done = await new MediaClient(fourth.server.url, erin.accessToken).complete(created.body.id);
    expect(done.status).toBe(200);
    expect(done.body.media.hash).toBe(sha256(bytes));

    // Sent to frank from process 1; he reads it from process 3.
    const path = conversationPath('erin', 'frank', thisSegment());
    const e1 = await connect(p1, path, erin.accessToken);
    send(e1, message('erin', 'frank', '', { type: 'file', body: [{ type: 'file', media: done.body.media, name: 'big.bin' }] }));
    await waitFor(() => acks(e1).length === 1, 'the file message acknowledged');
    const read = await getMedia(p3.url, done.body.media.hash, { token: frank.accessToken });
    expect(read.status).toBe(200);
    expect(sha256(read.bytes)).toBe(sha256(bytes));
  });

  it('pushes each message once to an offline device, whichever process queued it, and none while it is online on another', async () => {
    const [p1, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const gina = await signUp(p1.url, 'gina', 'g1');
    const hank = await signUp(p2.url, 'hank', 'phone');
    const subscribed = await fetch(`${p3.url}/api/v1/push/subscription`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${hank.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(service.subscription('hank-phone')),
    });
    expect(subscribed.status).toBe(204);
    const conversation = await connect(p1, conversationPath('gina', 'hank', thisSegment()), gina.accessToken);
    const pushed = (): string[] => service.to('hank-phone').filter((r) => r.status === 201).map((r) => r.payload.message.id);

    const burst = Array.from({ length: 8 }, (_, i) => message('gina', 'hank', `burst ${i}`));
    for (const m of burst) send(conversation, m);
    await waitFor(() => pushed().length >= burst.length, 'a push for every message', 10_000);
    expect(pushed().sort()).toEqual(burst.map((m) => m.id).sort());

    // hank's phone online on process 2: seen by every process, so gina's next message is not pushed.
    const adminKey = cluster.adminKey();
    const onlineSeenBy = async (server: TestServer): Promise<string[]> =>
      (await api<{ devices: string[] }>(server.url, 'GET', '/admin/users/hank/online', undefined, adminKey)).body.devices;
    const inbox = await connect(p2, inboxPath('hank'), hank.accessToken);
    for (const server of [p1, p2, p3]) expect(await until(() => onlineSeenBy(server), (devices) => devices.includes('phone'))).toContain('phone');
    const whileOnline = message('gina', 'hank', 'while online');
    send(conversation, whileOnline);
    await waitFor(() => acks(conversation).includes(whileOnline.id), 'the message acknowledged');
    inbox.destroy();
    for (const server of [p1, p2, p3]) expect(await until(() => onlineSeenBy(server), (devices) => !devices.includes('phone'))).not.toContain('phone');
    // Offline again: the next one is pushed, after anything the one before it would have caused.
    const afterwards = message('gina', 'hank', 'offline again');
    send(conversation, afterwards);
    await waitFor(() => pushed().includes(afterwards.id), 'the push of the message sent offline again', 10_000);
    expect(pushed()).not.toContain(whileOnline.id);
    expect(pushed()).toHaveLength(burst.length + 1);
    expect(service.errors).toEqual([]);
  });

  it('drops a document whose commit was fenced (another process leads it now) with doc-moved, and refuses its writer nothing', async () => {
    const [p1] = cluster.processes.map((p) => p.server) as [TestServer];
    const { path, writer: client } = await ledConversation(p1, 'ivy', 'jack');

    // Process 1 leads the conversation; its lease passes to another process without process 1 hearing of it yet
    // (a long pause, a cut lease connection): the token in doc_leaders is raised, as a takeover raises it.
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const raised = await db.query("UPDATE doc_leaders SET token = token + 1, node = 'a-process-that-took-over' WHERE doc = $1", [path]);
      expect(raised.rowCount).toBe(1);
    } finally {
      await db.end();
    }
    const second = message('ivy', 'jack', 'after the takeover');
    send(client, second);
    await waitFor(() => client.frames.some((f) => 'code' in f && f.code === 'doc-moved'), 'doc-moved', 15_000);
    expect(rejects(client)).toEqual([]);
    expect(acks(client)).not.toContain(second.id);
  });

  it('reads a document a process opens only once Redis confirmed its channel, so an update committed in between reaches it', async () => {
    const [p1] = cluster.processes.map((p) => p.server) as [TestServer];
    const proxy = await HoldProxy.start(redis ?? '');
    try {
      const slow = (await startProcess(cluster.dataDir, { env: { ...cluster.env, PARLEY_REDIS_URL: proxy.url } })).server;
      const {
        path,
        writer,
        first,
        sessions: [, lee],
      } = await ledConversation(p1, 'kim', 'lee');

      // lee opens the conversation on the slow process, whose SUBSCRIBE to the conversation's channel Redis has not confirmed yet.
      const held = proxy.hold(`${cluster.prefix}doc:${path}`);
      const reader = openDoc(slow, path, lee.accessToken);
      await held;
      // Read before the subscription was confirmed, the copy would be served now; nothing can be waited for when it is
      // not (the process waits on Redis), so this waits at most 1 s for it, far longer than reading it takes.
      const servedEarly = await Promise.race([synced(reader).then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false))]);
      const second = message('kim', 'lee', 'while the subscription is unconfirmed');
      send(writer, second);
      await waitFor(() => acks(writer).includes(second.id), 'the second message acknowledged (committed, and published)', 15_000);
      proxy.release();
      await synced(reader);
      await waitFor(() => reader.doc.getMap('messages').has(second.id), 'the second message on the slow process', 15_000);
      expect(servedEarly).toBe(false);
      expect(reader.doc.getMap('messages').has(first.id)).toBe(true);
    } finally {
      proxy.release();
      await proxy.close();
    }
  });

  it('keeps a copy loaded while its leader had not written itself down, and forwards its writes to the leader it reads again', async () => {
    const [p1] = cluster.processes.map((p) => p.server) as [TestServer];
    // A process of its own, to know its node id (in its first info line) and so its lease connection.
    const followerProcess = await startProcess(cluster.dataDir, { env: { ...cluster.env, PARLEY_LOG_LEVEL: 'info' } });
    const follower = followerProcess.server;
    const node = followerProcess.lines.map((line) => JSON.parse(line) as { event?: string; node?: string }).find((entry) => entry.event === 'cluster-joined')?.node;
    expect(node).toMatch(/^[0-9a-f]{16}$/);
    const {
      path,
      writer: leaderSide,
      sessions: [, ned],
    } = await ledConversation(p1, 'mia', 'ned');

    // Process 1 holds the lease; its row in doc_leaders is taken away while the follower reads who leads, as when the
    // lease was just taken and not yet written down, and put back before the follower has read the document (its
    // read waits on the snapshots table, which the test holds meanwhile).
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    const holder = new pg.Client({ connectionString: cluster.databaseUrl });
    await Promise.all([db.connect(), holder.connect()]);
    try {
      const row = await db.query<{ token: number; node: string }>('DELETE FROM doc_leaders WHERE doc = $1 RETURNING token, node', [path]);
      expect(row.rowCount).toBe(1);
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE');
      const copy = openDoc(follower, path, ned.accessToken);
      const waiting = await until(
        async () => Number((await db.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_locks WHERE relation = 'snapshots'::regclass AND NOT granted")).rows[0]?.n),
        (n) => n > 0,
        15_000,
      );
      expect(waiting).toBeGreaterThan(0);
      const back = await db.query<{ at: Date }>('INSERT INTO doc_leaders (doc, token, node) VALUES ($1, $2, $3) RETURNING clock_timestamp() AS at', [path, row.rows[0]?.token, row.rows[0]?.node]);
      await holder.query('ROLLBACK');
      await synced(copy);
      // The follower's first sweep after the row came back: it finds the leader its copy already forwards to (read
      // again at the client's first write, its answer to the sync), so the copy stays.
      const sweeps = await until(
        async () =>
          (
            await db.query<{ n: string }>(
              "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT doc, node FROM doc_leaders%' AND query_start > $2",
              [`parley-leases-${node ?? ''}`, back.rows[0]?.at],
            )
          ).rows[0]?.n,
        (n) => Number(n) > 0,
        15_000,
      );
      expect(Number(sweeps)).toBeGreaterThan(0);
      const second = message('ned', 'mia', 'from the follower');
      send(copy, second);
      await waitFor(() => acks(copy).includes(second.id), 'the write from the follower acknowledged', 15_000);
      await waitFor(() => leaderSide.doc.getMap('messages').has(second.id), 'the write on the leader', 15_000);
      expect(copy.frames.filter((f) => 'code' in f)).toEqual([]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await Promise.all([db.end(), holder.end()]);
    }
  });

  it('stamps from where the old leader stopped when a process that followed a conversation takes it over', async () => {
    const [, p2] = cluster.processes.map((p) => p.server) as [TestServer, TestServer];
    const doomed = await startProcess(cluster.dataDir, { env: cluster.env });
    // The doomed process leads; pete's device follows it on process 2, which reads the conversation's last stamp as it loads.
    const {
      path,
      lastMonth,
      writer,
      first: before,
      sessions: [, pete],
    } = await ledConversation(doomed.server, 'olga', 'pete');
    const follower = await connect(p2, path, pete.accessToken);
    // Last month's document of the same conversation, open on process 2 throughout: the conversation stays loaded there.
    await connect(p2, lastMonth, pete.accessToken);
    // Stamped by the leader after process 2 loaded its copy.
    const more = Array.from({ length: 3 }, (_, i) => message('olga', 'pete', `while pete follows ${i}`));
    for (const m of more) send(writer, m);
    await waitFor(() => more.every((m) => follower.doc.getMap<number>(SERVER_ROOTS.seq).has(m.id)), 'the messages stamped on the follower', 15_000);

    doomed.child.kill('SIGKILL');
    // Process 2 takes the conversation over; pete's device reconnects to it and writes.
    const after = message('pete', 'olga', 'after the takeover');
    send(follower, after);
    await waitFor(() => acks(follower).includes(after.id), 'the message written after the takeover acknowledged', 15_000);
    expect(rejects(follower)).toEqual([]);
    const seq = follower.doc.getMap<number>(SERVER_ROOTS.seq);
    expect([before, ...more, after].map((m) => seq.get(m.id))).toEqual([1, 2, 3, 4, 5]);
  });

  it('judges a write forwarded to a process that has just taken a conversation over only once its copy is loaded', async () => {
    const [, p2, p3] = cluster.processes.map((p) => p.server) as [TestServer, TestServer, TestServer];
    const doomed = await startProcess(cluster.dataDir, { env: cluster.env });
    const {
      path,
      lastMonth: older,
      writer,
      sessions: [, rosa],
    } = await ledConversation(doomed.server, 'quinn', 'rosa');
    // rosa on processes 2 and 3, both following; each also keeps last month's document open, so that each holds the
    // conversation's sequence in memory (as it read it then) and reads it no more.
    const devices = [await connect(p2, path, rosa.accessToken), await connect(p3, path, rosa.accessToken)];
    for (const server of [p2, p3]) await connect(server, older, rosa.accessToken);
    const second = message('quinn', 'rosa', 'second');
    send(writer, second);
    await waitFor(() => devices.every((d) => d.doc.getMap<number>(SERVER_ROOTS.seq).get(second.id) === 2), 'the second message stamped on both followers', 15_000);

    // The conversations table is held while the leader dies: the process that takes the conversation over reads the
    // sequence from it as it loads, and waits; its follower does not read it, and forwards its device's write at once.
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    const holder = new pg.Client({ connectionString: cluster.databaseUrl });
    await Promise.all([db.connect(), holder.connect()]);
    try {
      const doomedNode = (await db.query<{ node: string }>('SELECT node FROM doc_leaders WHERE doc = $1', [path])).rows[0]?.node;
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE');
      doomed.child.kill('SIGKILL');
      const waiting = await until(
        async () => Number((await db.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_locks WHERE relation = 'conversations'::regclass AND NOT granted")).rows[0]?.n),
        (n) => n > 0,
        15_000,
      );
      expect(waiting).toBeGreaterThan(0);
      const newLeader = (await db.query<{ node: string }>('SELECT node FROM doc_leaders WHERE doc = $1', [path])).rows[0]?.node;
      expect(newLeader).not.toBe(doomedNode);
      const third = devices.map((d, i) => {
        const m = message('rosa', 'quinn', `after the takeover, from process ${i + 2}`);
        send(d, m);
        return m;
      });
      // The follower's device reconnects (its copy was dropped for the new leader) and sends its write again.
      const reconnected = await until(
        () => Promise.resolve(devices.some((d) => d.closeCode !== null && d.provider.synced)),
        (ready) => ready,
        15_000,
      );
      expect(reconnected).toBe(true);
      await holder.query('ROLLBACK');
      await waitFor(() => third.every((m, i) => acks(devices[i] as Client).includes(m.id)), 'both writes after the takeover acknowledged', 15_000);
      for (const d of devices) expect(rejects(d)).toEqual([]);
      const seq = (devices[0] as Client).doc.getMap<number>(SERVER_ROOTS.seq);
      await waitFor(() => third.every((m) => seq.has(m.id)), 'both stamped on process 2', 15_000);
      expect(third.map((m) => seq.get(m.id)).sort()).toEqual([3, 4]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await Promise.all([db.end(), holder.end()]);
    }
  });
});
