/**
 * W7 — hostile updates beside an honest client: five 9 MB updates of 400,000
 * tiny items each arrive at once on one socket (the attack of issue 12) while
 * an honest client sends a message on another; measured: the honest client's
 * ack latency, from its send to its ack, with and without the attack, and how
 * long the attacker waits for its five `update-too-large` refusals. Target:
 * the attack delays the honest ack by at most 100 ms.
 *
 *   npx tsx bench/src/w7.ts [runs]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { conversationPath, MESSAGE_CONTROL, parseControlFrame, segmentOf, type ControlFrame } from '@parley/protocol';
import { launchServer } from './servers/launch.ts';
import { updateFrame } from './client/frames.ts';
import { Samples } from './stats.ts';
import { mintAccessToken, readJwtSecret } from './tokens.ts';

/** One update of `items` tiny new keys in `messages`, encoded as Yjs v1. */
function attack(items: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, items);
  encoding.writeVarUint(encoder, 777);
  encoding.writeVarUint(encoder, 0);
  for (let i = 0; i < items; i++) {
    encoding.writeUint8(encoder, 0x20 | 8);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarString(encoder, 'messages');
    encoding.writeVarString(encoder, `k${i}`);
    encoding.writeVarUint(encoder, 1);
    encoding.writeAny(encoder, i % 100);
  }
  encoding.writeVarUint(encoder, 0);
  return updateFrame(encoding.toUint8Array(encoder));
}

interface Socket {
  ws: WebSocket;
  next(): Promise<ControlFrame>;
}

async function open(url: string): Promise<Socket> {
  const ws = new WebSocket(url);
  const frames: ControlFrame[] = [];
  const waiters: ((f: ControlFrame) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== MESSAGE_CONTROL) return;
    const frame = parseControlFrame(decoding.readVarString(decoder));
    // The limits every socket hears at open answer nothing it sent.
    if (frame === null || frame.type === 'limits') return;
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(frame);
    else frames.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, next: () => new Promise((resolve) => (frames.length > 0 ? resolve(frames.shift() as ControlFrame) : waiters.push(resolve))) };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 7);
  const server = await launchServer('parley', { env: { PARLEY_MESSAGE_RATE: '5', PARLEY_MESSAGE_BURST: '50' } });
  try {
    const adminKey = readFileSync(join(server.dataDir, 'admin-key'), 'utf8').trim();
    const users = ['alice', 'bob', 'mallory'];
    const response = await fetch(`http://127.0.0.1:${server.port}/api/v1/admin/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
      body: JSON.stringify({ accounts: users.map((id) => ({ id, nickname: id })) }),
    });
    if (!response.ok) throw new Error(`import: ${response.status}`);
    const key = readJwtSecret(server.dataDir);
    const segment = segmentOf(Date.now());
    const honestPath = conversationPath('alice', 'bob', segment);
    const hostilePath = conversationPath('bob', 'mallory', segment);
    const hostileFrame = attack(400_000);
    const alice = new Y.Doc();
    let n = 0;
    /** One honest message: its update frame, written into alice's copy (each run its own new key). */
    const honestFrame = (): Uint8Array => {
      const updates: Uint8Array[] = [];
      const onUpdate = (u: Uint8Array): void => void updates.push(u);
      alice.on('update', onUpdate);
      const id = `w7m${n++}`;
      alice.getMap('messages').set(id, { id, from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: 'hello' }], ts: Date.now(), profile: { nickname: 'alice' } });
      alice.off('update', onUpdate);
      return updateFrame(updates[0] as Uint8Array);
    };
    const honest = await open(`${server.wsBase}/${honestPath}?token=${await mintAccessToken(key, 'alice', 'w7-alice')}`);
    const hostile = await open(`${server.wsBase}/${hostilePath}?token=${await mintAccessToken(key, 'mallory', 'w7-mallory')}`);
    const quiet = new Samples();
    const attacked = new Samples();
    const refused = new Samples();
    const ackOf = async (frame: Uint8Array): Promise<number> => {
      const t0 = performance.now();
      honest.ws.send(frame);
      for (;;) {
        const f = await honest.next();
        if (f.type === 'ack') return performance.now() - t0;
        if (f.type === 'reject') throw new Error(`honest update refused: ${f.code}`);
      }
    };
    const loadBefore = loadavg()[0] ?? 0;
    for (let r = 0; r < runs + 1; r++) {
      const base = await ackOf(honestFrame());
      // The attack: five updates sent at once, then the honest message right behind them.
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) hostile.ws.send(hostileFrame);
      const during = await ackOf(honestFrame());
      for (let i = 0; i < 5; i++) {
        const f = await hostile.next();
        if (f.type !== 'reject' || f.code !== 'update-too-large') throw new Error(`attack not refused: ${JSON.stringify(f)}`);
      }
      const allRefused = performance.now() - t0;
      if (r === 0) continue; // warm-up
      quiet.add(base);
      attacked.add(during);
      refused.add(allRefused);
    }
    const fmt = (s: Samples): string => {
      const [p50 = Number.NaN, max = Number.NaN] = s.percentiles([50, 100]);
      return `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`;
    };
    console.log(`W7 ${runs} runs, attack frame ${(hostileFrame.length / 1e6).toFixed(1)} MB × 5, load ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}`);
    console.log(`  honest ack, alone:            ${fmt(quiet)}`);
    console.log(`  honest ack, beside the attack: ${fmt(attacked)}`);
    console.log(`  five refusals received after: ${fmt(refused)}`);
    honest.ws.close();
    hostile.ws.close();
    alice.destroy();
  } finally {
    await server.stop();
  }
}

await main();
