/**
 * W4 — catching up after being offline: a device of one user is offline
 * while messages arrive in many of that user's conversations; on reconnect it
 * does what the web client does (web/src/lib/sync/hub.ts): syncs its inbox,
 * then the newest segment of each conversation whose inbox entry moved, a few
 * documents at a time. Measured: from opening the first socket until the last
 * of those documents is synced (each then holds the sequence its inbox entry
 * names). Target: ≤ 2 s for 10,000 messages in 100 conversations.
 *
 * The device keeps its documents' state between runs (as IndexedDB would), so
 * each reconnect sends state vectors and receives only what it missed. The
 * backlog arrives through the admin history import with `live: true` (stamped,
 * stored and counted unread exactly like sent messages), 1,000 per call.
 */
import { withSection } from './report.ts';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { conversationPath, inboxPath, type InboxEntry } from '@parley/protocol';
import { Device } from './client/device.ts';
import { sampleProc } from './proc.ts';
import { launchServer } from './servers/launch.ts';
import { Samples } from './stats.ts';
import { parleySession } from './tokens.ts';

export interface W4Sizes {
  conversations: number;
  /** Messages arriving in each conversation while the device is offline, per run. */
  perConversation: number;
  runs: number;
  /** Conversation documents synced at once after the inbox. */
  parallel: number;
}

export const W4_FULL: W4Sizes = { conversations: 100, perConversation: 100, runs: 7, parallel: 6 };
export const W4_QUICK: W4Sizes = { conversations: 20, perConversation: 50, runs: 3, parallel: 6 };

export interface W4Run {
  /** From the first socket opened to the last document synced, ms. */
  totalMs: number;
  /** The inbox alone, ms. */
  inboxMs: number;
  /** Before the timing: loading the device's stored documents into memory, ms. */
  loadMs: number;
  /** CPU time spent during the timed part by the server process and by the client (the harness process), ms. */
  serverCpuMs: number;
  clientCpuMs: number;
  /** Conversations whose inbox entry moved (each had its newest segment synced). */
  changed: number;
  /** Messages the device received in those documents. */
  received: number;
}

export interface W4Result {
  sizes: W4Sizes;
  runs: W4Run[];
  p50: number;
  p95: number;
  /** Milliseconds per import call of 1,000 messages (building the backlog), p50. */
  importMs: number;
  /** The machine's 1-minute load average when W4 started and ended (other work shares the cores). */
  load: [number, number];
}

const USER = 'w4user';
const TARGET_MS = 2000;

const peerOf = (i: number): string => `w4p${String(i).padStart(3, '0')}`;

export async function runW4(sizes: W4Sizes, log: (line: string) => void): Promise<W4Result> {
  const loadBefore = loadavg()[0] ?? 0;
  // The harness's device keeps its inbox and every conversation it synced connected until the run
  // ends (101 documents in the full size), and reconnects all of them seven times within about a
  // minute: past the defaults of PARLEY_MAX_DOCS_PER_USER (100) and PARLEY_SOCKET_UPGRADES_PER_USER
  // (300 a minute), which came after W4 was written; the web client lets go of documents it is done with.
  const server = await launchServer('parley', { env: { PARLEY_MAX_DOCS_PER_USER: '1000', PARLEY_SOCKET_UPGRADES_PER_USER: '100000' } });
  try {
    const http = `http://127.0.0.1:${server.port}/api/v1`;
    const adminKey = readFileSync(join(server.dataDir, 'admin-key'), 'utf8').trim();
    const admin = async (path: string, body: unknown): Promise<unknown> => {
      const response = await fetch(`${http}/admin${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-key': adminKey }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST /admin${path}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    const peers = Array.from({ length: sizes.conversations }, (_, i) => peerOf(i));
    const users = [USER, ...peers];
    for (let i = 0; i < users.length; i += 100) await admin('/accounts', { accounts: users.slice(i, i + 100).map((id) => ({ id, nickname: id })) });
    const token = await parleySession(server.dataDir, server.wsBase, USER, 'w4-device');
    const wsBase = server.wsBase;

    /** The device's stored documents (what IndexedDB holds), by path. */
    const stored = new Map<string, Uint8Array>();
    /** The last sequence the device holds per peer, from its inbox. */
    const known = new Map<string, number>();
    let counter = 0;
    const importTimes: number[] = [];

    /** `perConversation` messages from each peer to the user, now, 1,000 per import call. */
    const arrive = async (perConversation: number, live: boolean): Promise<void> => {
      const t0 = Date.now();
      const all = peers.flatMap((peer) =>
        Array.from({ length: perConversation }, (_, i) => ({
          id: `w4m${(counter++).toString(36)}`,
          from: peer,
          to: USER,
          body: [{ type: 'text', text: `message ${i} from ${peer}: a line of ordinary chat text` }],
          ts: t0 + i,
        })),
      );
      for (let i = 0; i < all.length; i += 1000) {
        const started = performance.now();
        await admin('/messages/import', { messages: all.slice(i, i + 1000), live });
        importTimes.push(performance.now() - started);
      }
    };

    /** A document with its stored state loaded, not connected. */
    const load = (path: string): Device => {
      const device = new Device('parley', path, USER, 0, {});
      const state = stored.get(path);
      if (state !== undefined) Y.applyUpdate(device.doc, state);
      return device;
    };
    /** Connects a document (loaded from storage now unless `loaded` has it); resolves with the device once synced. */
    const open = async (path: string, loaded: ReadonlyMap<string, Device>): Promise<Device> => {
      const device = loaded.get(path) ?? load(path);
      await device.connect(wsBase, token);
      return device;
    };

    /** What the web client does on reconnect; returns the run's figures. */
    const reconnect = async (): Promise<W4Run> => {
      // The documents the device holds are in memory before it reconnects (a device that was
      // offline with the app open); loading them is the device's own work, timed apart.
      const loadStarted = performance.now();
      const loaded = new Map([...stored.keys()].map((path) => [path, load(path)] as const));
      const loadMs = performance.now() - loadStarted;
      const started = performance.now();
      const serverBefore = sampleProc(server.pid);
      const clientBefore = process.cpuUsage();
      const inbox = await open(inboxPath(USER), loaded);
      const inboxMs = performance.now() - started;
      const entries = [...inbox.doc.getMap<InboxEntry>('conversations').values()].filter((e) => e.lastSeq > (known.get(e.peer) ?? 0));
      const devices: Device[] = [];
      const queue = [...entries];
      const worker = async (): Promise<void> => {
        for (let e = queue.shift(); e !== undefined; e = queue.shift()) devices.push(await open(conversationPath(USER, e.peer, e.segment), loaded));
      };
      await Promise.all(Array.from({ length: sizes.parallel }, worker));
      const totalMs = performance.now() - started;
      const serverCpuMs = (sampleProc(server.pid).cpu - serverBefore.cpu) * 1000;
      const clientUsage = process.cpuUsage(clientBefore);
      const clientCpuMs = (clientUsage.user + clientUsage.system) / 1000;

      // Outside the timing: every document is current, and the device keeps what it got.
      let received = 0;
      for (const entry of entries) {
        const path = conversationPath(USER, entry.peer, entry.segment);
        const device = devices.find((d) => d.docName === path);
        if (device === undefined) throw new Error(`W4: ${path} was not synced`);
        const seqs = [...device.doc.getMap<number>('seq').values()];
        if (Math.max(0, ...seqs) !== entry.lastSeq) throw new Error(`W4: ${path} holds up to ${Math.max(0, ...seqs)}, the inbox says ${entry.lastSeq}`);
        received += entry.lastSeq - (known.get(entry.peer) ?? 0);
        known.set(entry.peer, entry.lastSeq);
      }
      for (const device of [inbox, ...devices]) {
        stored.set(device.docName, Y.encodeStateAsUpdate(device.doc));
        await device.close();
      }
      for (const device of new Set([inbox, ...devices, ...loaded.values()])) device.destroy();
      return { totalMs, inboxMs, loadMs, serverCpuMs, clientCpuMs, changed: entries.length, received };
    };

    // The device has been in step once (one message in each conversation), then goes offline.
    await arrive(1, false);
    await reconnect();
    const runs: W4Run[] = [];
    for (let r = 0; r < sizes.runs; r++) {
      await arrive(sizes.perConversation, true);
      const run = await reconnect();
      if (run.changed !== sizes.conversations) throw new Error(`W4: ${run.changed} conversations changed, expected ${sizes.conversations}`);
      log(`W4 run ${r + 1}: ${run.received} messages in ${run.changed} conversations current in ${run.totalMs.toFixed(0)} ms (inbox ${run.inboxMs.toFixed(0)} ms; CPU server ${run.serverCpuMs.toFixed(0)} ms, client ${run.clientCpuMs.toFixed(0)} ms; stored documents loaded beforehand in ${run.loadMs.toFixed(0)} ms)`);
      runs.push(run);
    }
    const totals = new Samples();
    for (const r of runs) totals.add(r.totalMs);
    const imports = new Samples();
    for (const t of importTimes) imports.add(t);
    const [p50 = Number.NaN, p95 = Number.NaN] = totals.percentiles([50, 95]);
    return { sizes, runs, p50, p95, importMs: imports.percentiles([50])[0] ?? Number.NaN, load: [loadBefore, loadavg()[0] ?? 0] };
  } finally {
    await server.stop();
  }
}

const START = '<!-- W4 -->';
const END = '<!-- /W4 -->';

/** The W4 section of RESULTS.md, between markers so that a W4-only run can replace it. */
export function renderW4(result: W4Result, quick: boolean, apart = false): string {
  const { sizes } = result;
  const messages = sizes.conversations * sizes.perConversation;
  const met = result.p95 <= TARGET_MS;
  const lines = [
    START,
    '## W4: catching up after being offline',
    '',
    `A device of one user is offline while ${messages.toLocaleString('en-US')} messages arrive in ${sizes.conversations} of its conversations (${sizes.perConversation} each); on reconnect it syncs its inbox, then the newest segment of each conversation whose entry moved, ${sizes.parallel} at a time, as the web client does. Measured from opening the inbox socket until the last of those documents is synced; each is then checked to hold the sequence its inbox entry names. The device keeps its documents between runs (as IndexedDB does), so it sends state vectors and receives only what it missed; they are loaded into memory before the timing starts (a device offline with the app open), and that load is shown apart (it grows with the history the device holds; the timed part should not). The backlog is imported with \`POST /api/v1/admin/messages/import\` (\`live: true\`: stamped, stored and counted unread like sent messages), 1,000 messages per call (p50 ${result.importMs.toFixed(0)} ms a call), into one Parley server process; the client runs in the harness process. ${sizes.runs} runs${apart ? `, on ${new Date().toISOString()} with \`npm run bench -- ${quick ? '--quick ' : ''}--w4-only\`, apart from the figures above` : ''}; the machine's 1-minute load average was ${result.load[0].toFixed(1)} at the start and ${result.load[1].toFixed(1)} at the end (on 2 cores; above 2, other work competed for them). The CPU columns are the work itself, whatever the competition: server CPU is read from /proc (10 ms ticks), client CPU from \`process.cpuUsage()\`.`,
    '',
    '| run | messages | conversations | inbox synced, ms | all current, ms | CPU in that time: server / client, ms | (before: stored documents loaded, ms) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.runs.map((r, i) => `| ${i + 1} | ${r.received.toLocaleString('en-US')} | ${r.changed} | ${r.inboxMs.toFixed(0)} | ${r.totalMs.toFixed(0)} | ${r.serverCpuMs.toFixed(0)} / ${r.clientCpuMs.toFixed(0)} | ${r.loadMs.toFixed(0)} |`),
    '',
    `| target | | measured |`,
    '| --- | --- | --- |',
    `| W4 ≤ 2 s for ${messages.toLocaleString('en-US')} messages in ${sizes.conversations} conversations | ${quick ? 'n/a (quick run)' : met ? 'met' : '**missed**'} | p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms |`,
    END,
  ];
  return lines.join('\n');
}

export const withW4 = (results: string, section: string): string => withSection(results, section, 'W4');
