/**
 * The accept path alone, in one process: N client updates (one new text
 * message each, as the app writes them) through `SyncHub` — validation,
 * apply, the server's own writes, the group commit on real SQLite, the inbox
 * batch, fan-out to the peer's connection and the sender's ack — without
 * sockets or a load generator, so the figure is the server's own CPU per
 * update. The updates are encoded before the clock starts; they go in
 * rounds of one message per conversation, each round after the previous
 * one's acks (a group commit then holds one round).
 *
 * Figures: process CPU (main thread, SQLite worker and GC) per update, and
 * the synchronous part of `receive` (validate, apply, queue) per update, as
 * process CPU and as elapsed time (the latter counts time the machine gave
 * to other processes; on a shared machine trust the CPU figures).
 *
 *   npx tsx bench/src/accept-micro.ts [updates=20000] [conversations=50] [profile.cpuprofile]
 *
 * With a third argument, a CPU profile of the main thread over the measured
 * rounds only (no start-up, no shutdown) is written there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { API_PREFIX, conversationPath, MESSAGE_CONTROL, parseControlFrame, segmentOf, type Message } from '@parley/protocol';
import { loadConfig, startParley, type Parley } from '@parley/sync-server';
import { updateFrame } from './client/frames.ts';

const updates = Number(process.argv[2] ?? 20_000);
const conversationCount = Number(process.argv[3] ?? 50);
const profileTo = process.argv[4];
const ADMIN_KEY = 'accept-micro-admin-key-0123456789abcdef';

/** Counts the answers (`ack`, `reject`) the senders' connections receive. */
class Acks {
  count = 0;
  rejects = 0;
  private waiting: { until: number; resolve: () => void } | null = null;
  onFrame = (bytes: Uint8Array): void => {
    const decoder = decoding.createDecoder(bytes);
    if (decoding.readVarUint(decoder) !== MESSAGE_CONTROL) return;
    const frame = parseControlFrame(decoding.readVarString(decoder));
    if (frame?.type === 'ack') this.count++;
    else if (frame?.type === 'reject') this.rejects++;
    else return;
    if (this.waiting !== null && this.count + this.rejects >= this.waiting.until) {
      this.waiting.resolve();
      this.waiting = null;
    }
  };

  /** Settles once `n` answers have come (without polling, which would spend the CPU being measured). */
  answered(n: number): Promise<void> {
    if (this.count + this.rejects >= n) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { until: n, resolve }));
  }
}

interface Sender {
  receive(bytes: Uint8Array): void;
  frames: Uint8Array[];
}

async function createAccounts(parley: Parley, users: string[]): Promise<void> {
  const response = await fetch(`${parley.url}${API_PREFIX}/admin/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN_KEY },
    body: JSON.stringify({ accounts: users.map((id) => ({ id })) }),
  });
  if (!response.ok) throw new Error(`POST /admin/accounts: ${response.status} ${await response.text()}`);
}

/** The frames one sender's device sends: each a new message in its own Y.Doc, as the app's update event gives it. */
function senderFrames(from: string, to: string, count: number, tag: number): Uint8Array[] {
  const doc = new Y.Doc();
  const frames: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => frames.push(updateFrame(update)));
  const messages = doc.getMap<Message>('messages');
  for (let i = 0; i < count; i++) {
    const id = `m${tag}-${i}`;
    messages.set(id, { id, from, to, type: 'text', body: [{ type: 'text', text: `on my way, see you at the station #${i}` }], ts: Date.now(), profile: { nickname: `User ${from}` } });
  }
  return frames;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-accept-'));
  const parley = await startParley({
    ...loadConfig({
      PARLEY_PORT: '0',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_ADMIN_KEY: ADMIN_KEY,
      PARLEY_MESSAGE_RATE: '100000',
      PARLEY_MESSAGE_BURST: '100000',
    }),
    staticDir: null,
  });
  try {
    const users = Array.from({ length: conversationCount }, (_, i) => [`u${i}a`, `u${i}b`]).flat();
    await createAccounts(parley, users);
    const acks = new Acks();
    const sink = { send: () => undefined, drained: () => Promise.resolve() };
    const senders: Sender[] = [];
    const perSender = Math.ceil(updates / conversationCount);
    for (let i = 0; i < conversationCount; i++) {
      const path = conversationPath(`u${i}a`, `u${i}b`, segmentOf(Date.now()));
      const opened = await parley.hub.open(path, `u${i}a`, 'd0', { send: acks.onFrame, drained: () => Promise.resolve() });
      const peer = await parley.hub.open(path, `u${i}b`, 'd0', sink);
      if (!opened.ok || !peer.ok) throw new Error('open failed');
      const connection = opened.connection;
      senders.push({ receive: (bytes) => connection.receive(bytes), frames: senderFrames(`u${i}a`, `u${i}b`, perSender, i) });
    }
    // A warm-up round, outside the figures.
    const warm = Math.min(5, perSender);
    let sent = 0;
    let syncMs = 0;
    let syncCpuUs = 0;
    /** Each round's receive() CPU per update: its median is steadier than the mean on a shared machine. */
    const perRound: number[] = [];
    const round = async (r: number): Promise<void> => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      for (const sender of senders) {
        const frame = sender.frames[r];
        if (frame === undefined || sent >= updates + warm * conversationCount) continue;
        sender.receive(frame);
        sent++;
      }
      const cpu = process.cpuUsage(cpu0);
      syncCpuUs += cpu.user + cpu.system;
      perRound.push((cpu.user + cpu.system) / senders.length);
      syncMs += performance.now() - t0;
      await acks.answered(sent);
    };
    for (let r = 0; r < warm; r++) await round(r);
    const firstMeasured = sent;
    const profiler = profileTo === undefined ? null : new Session();
    if (profiler !== null) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    syncMs = 0;
    syncCpuUs = 0;
    perRound.length = 0;
    const t0 = performance.now();
    for (let r = warm; r < perSender; r++) await round(r);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (profiler !== null && profileTo !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(profileTo, JSON.stringify(profile));
      profiler.disconnect();
    }
    const n = sent - firstMeasured;
    const cpuUs = (cpu.user + cpu.system) / n;
    console.log(
      `${n} updates over ${conversationCount} conversations: process CPU ${cpuUs.toFixed(1)} µs/update, receive() CPU ${(syncCpuUs / n).toFixed(1)} µs/update (median round ${median(perRound).toFixed(1)}; elapsed ${((syncMs * 1000) / n).toFixed(1)}), wall ${((wallMs * 1000) / n).toFixed(1)} µs/update, rejects ${acks.rejects}`,
    );
  } finally {
    await parley.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
