/**
 * R1: SIGKILL the server in the middle of a steady send, start it again on the
 * same data dir, let the clients reconnect. Every message that was acked is
 * stored exactly once; every message that was not acked is resent by its
 * client (Yjs sync step 2 carries what the server lacks) and stored exactly
 * once. A short burst of the W2 workload, with real sign-up and sign-in.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { API_PREFIX, conversationPath, segmentOf, segmentRange, type Message, type Session } from '@parley/protocol';
import { Device } from '../src/client/device.ts';
import { until } from '../src/loadgen/fleet.ts';
import { freshDataDir, launchServer, type RunningServer } from '../src/servers/launch.ts';

const servers: RunningServer[] = [];
const dirs: string[] = [];
const devices: Device[] = [];

afterEach(async () => {
  for (const d of devices.splice(0)) d.destroy();
  for (const s of servers.splice(0)) await s.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function session(base: string, route: 'signup' | 'signin', user: string, device: string): Promise<string> {
  const response = await fetch(`${base}${API_PREFIX}/auth/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'correct horse battery', device }),
  });
  if (response.status !== (route === 'signup' ? 201 : 200)) throw new Error(`${route} ${user}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as Session).accessToken;
}

/** Must hold within `ms`, or the test fails naming `what`. */
async function waitUntil(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  if (!(await until(done, ms))) throw new Error(`timed out waiting for ${what}`);
}

/** msg_index rows per message id, read from the database file (the server must not be running). */
function storedIndex(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'parley.db'));
  try {
    const rows = db.prepare<[], { id: string; n: number }>('SELECT id, COUNT(*) AS n FROM msg_index GROUP BY conversation, id').all();
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}

it('stores every acked message exactly once, and every unacked one once its client resends it, across a SIGKILL', async () => {
  const dataDir = freshDataDir('r1');
  dirs.push(dataDir);
  const first = await launchServer('parley', { dataDir });
  servers.push(first);
  const http = `http://127.0.0.1:${first.port}`;
  const segment = segmentOf(Date.now());
  const segmentEnd = segmentRange(segment)[1];

  // Two conversations, two users each, two devices per user: sign up on one device, sign in on the other.
  const pairs = [['ann', 'ben'], ['cat', 'dan']] as const;
  const acked = new Set<string>();
  const rejected: string[] = [];
  const tokens = new Map<Device, string>();
  const conversations: { path: string; devices: Device[] }[] = [];
  for (const [a, b] of pairs) {
    const path = conversationPath(a, b, segment);
    const own: Device[] = [];
    for (const user of [a, b]) {
      for (const [i, route] of (['signup', 'signin'] as const).entries()) {
        const device = new Device('parley', path, user, own.length, {
          onAccepted: (_d, ids) => ids.forEach((id) => acked.add(id)),
          onReject: (_d, frame) => rejected.push(...frame.msgIds, frame.code),
        });
        tokens.set(device, await session(http, route, user, `d${i}`));
        own.push(device);
        devices.push(device);
      }
    }
    conversations.push({ path, devices: own });
  }
  await Promise.all(devices.map((d) => d.connect(first.wsBase, tokens.get(d)!)));

  // A steady burst: one message per millisecond-ish, round-robin over conversations and devices.
  const sent: { id: string; conversation: number }[] = [];
  const total = 600;
  let killed = false;
  const sending = (async () => {
    for (let n = 0; n < total; n++) {
      const c = n % conversations.length;
      const { devices: own } = conversations[c]!;
      const sender = own[Math.floor(n / conversations.length) % own.length]!;
      const peer = own.find((d) => d.user !== sender.user)!.user;
      const message: Message = {
        id: `r1m${n}`,
        from: sender.user,
        to: peer,
        type: 'text',
        body: [{ type: 'text', text: `message ${n}` }],
        ts: Math.min(Date.now(), segmentEnd),
        profile: { nickname: sender.user },
      };
      // Kill in the middle, from here, so it is always mid-burst however fast the
      // server acks: some messages acked, more still in flight and still to come.
      if (n === total / 2) {
        await waitUntil(() => acked.size >= 100, '100 acks');
        await first.kill();
        killed = true;
      }
      sender.write(message);
      sent.push({ id: message.id, conversation: c });
      // Yield so acks arrive between sends; after the kill, keep writing offline (as the app's outbox does).
      if (n % 2 === 1) await new Promise((resolve) => setImmediate(resolve));
      if (!killed && n % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();

  await sending;
  await waitUntil(() => devices.every((d) => !d.open), 'every socket to close');
  const ackedBeforeKill = new Set(acked);
  expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(100);

  // What the killed server had made durable: every acked message, once.
  const onDiskAfterKill = storedIndex(dataDir);
  for (const id of ackedBeforeKill) expect(onDiskAfterKill.get(id), `acked ${id} on disk`).toBe(1);

  // Start again on the same data dir (a new port); the same tokens still verify.
  const second = await launchServer('parley', { dataDir });
  servers.push(second);
  acked.clear();
  await Promise.all(devices.map((d) => d.connect(second.wsBase, tokens.get(d)!)));

  // Everything ends up stamped (stored) on every device of its conversation.
  const stamped = (c: number, id: string): boolean => conversations[c]!.devices.every((d) => d.doc.getMap<number>('seq').has(id));
  await waitUntil(() => sent.every(({ id, conversation }) => stamped(conversation, id)), 'every message stamped on every device');

  // Every message not acked before the kill and not already on disk was resent and acked now.
  for (const { id } of sent) {
    if (!ackedBeforeKill.has(id) && !onDiskAfterKill.has(id)) expect(acked.has(id), `${id} resent and acked`).toBe(true);
  }
  expect(rejected).toEqual([]);

  // Exactly once: each conversation's sequence is 1..N over its N messages, with no gap or repeat.
  for (const [c, { devices: own }] of conversations.entries()) {
    const seq = own[0]!.doc.getMap<number>('seq');
    const ids = sent.filter((s) => s.conversation === c).map((s) => s.id);
    expect(seq.size).toBe(ids.length);
    expect([...seq.values()].sort((x, y) => x - y)).toEqual(ids.map((_, i) => i + 1));
  }

  await Promise.all(devices.map((d) => d.close()));
  await second.stop();
  const onDisk = storedIndex(dataDir);
  expect(onDisk.size).toBe(total);
  for (const { id } of sent) expect(onDisk.get(id), `${id} stored once`).toBe(1);
}, 30_000);
