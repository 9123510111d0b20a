/**
 * The sync fuzzer: hostile frames against a real server process while an
 * honest client sends. `npm run fuzz` runs 100,000 frames and prints the
 * report (main.ts); `npm test` runs 10,000 (test/fuzz.test.ts).
 *
 *   start the server (test/process.ts), sign up two honest and some hostile accounts
 *   → the honest pair (honest.ts, its own process) syncs and starts sending
 *   → RSS at start; the hostile workers (hostile.ts) send their frames;
 *     meanwhile RSS is sampled and the server probed over HTTP
 *   → the honest client stops and waits for its last acks and deliveries
 *   → RSS once the hostile documents are unloaded; SIGTERM, a clean exit
 *
 * A crash is the process exiting, or not answering HTTP for `unresponsiveMs`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { API_PREFIX, conversationPath, inboxPath, MESSAGE_SYNC, prefsPath, segmentOf } from '@parley/protocol';
import { signUp } from '../test/helpers.ts';
import { REPO, rssOf, startProcess, stopProcess, type ServerProcess } from '../test/process.ts';
import { createRng } from './frames.ts';
import type { HonestReport, HonestToParent, ParentToHonest } from './honest.ts';
import { emptyTally, RecentFrames, runWorker, type HostileAccount, type HostileTally } from './hostile.ts';

export interface FuzzOptions {
  /** Hostile frames to send, in all. */
  frames: number;
  /** Seeds the PRNG of every worker (worker i: seed + i); the same seed sends the same frames. */
  seed: number;
  /** Hostile sockets open at once (default 8). */
  workers?: number;
  /** Frames a hostile socket sends before it waits for the server's pong (default 8). */
  window?: number;
  /** Hostile accounts (default 6; pairs of them share a conversation). */
  accounts?: number;
  /** Honest messages per second (default 20). */
  honestRate?: number;
  /** How long the honest client sends alone before the hostile frames start, for a baseline of its ack latency (default 5 s). */
  baselineMs?: number;
  /** A server that does not answer HTTP for this long has crashed (default 10 s). */
  unresponsiveMs?: number;
  /** Keep the data dir at the end (it is kept anyway after a crash). */
  keepDataDir?: boolean;
  /** Progress lines (main.ts prints them). */
  progress?: (line: string) => void;
}

/**
 * The server's settings for the run, beyond test/process.ts's (which raises
 * the per-user message rate and sign-ups per address): each hostile account
 * opens thousands of sockets a minute, since every 10th malformed frame
 * closes one, so the per-user upgrade rate (default 300 a minute) is raised;
 * documents unload 1 s after their last socket, so that the RSS at the end is
 * measured without them. Info is the production default log level, so its
 * volume is the one an operator gets.
 */
export const FUZZ_ENV: Readonly<Record<string, string>> = {
  PARLEY_LOG_LEVEL: 'info',
  PARLEY_SOCKET_UPGRADES_PER_USER: '1000000',
  PARLEY_UNLOAD_AFTER_MS: '1000',
};

export interface FuzzReport {
  seed: number;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  hostile: HostileTally;
  /** Empty when the server lived: otherwise how it died (exit code, signal, or no answer). */
  crash: string | null;
  /** The frames each worker sent last before a crash (hex), to replay it. */
  lastFrames: { worker: number; frames: readonly { at: number; kind: string; hex: string }[] }[];
  /** The server's log lines at error level, whole (the first 20). */
  errors: string[];
  /** `ack`: send → ack of the messages sent while the hostile frames went in; `baseline`: of those sent before, alone. */
  honest: Omit<HonestReport, 'type' | 'latencies'> & { ack: Latency; baseline: Latency };
  /**
   * Bytes. `cold`: before any hostile frame; `start`: after the warm-up, once
   * its documents are unloaded and a full garbage collection ran; `end`: after the run, the same way; `peak`:
   * the highest sample (every 200 ms) in between.
   */
  rss: { cold: number; start: number; peak: number; end: number };
  /**
   * The server's own `process.memoryUsage()` (memory-probe.mjs, every second)
   * right after the collections at `start` and `end`, and its highest heap in between: whether RSS grew
   * with the live JS heap, with what V8 reserved for it, or outside it.
   */
  memory: { start: MemorySample | null; end: MemorySample | null; peakHeapTotal: number };
  /** After the run, every document the hostile accounts wrote is opened again (loaded from storage): those that fail to open. */
  documents: { checked: number; failed: string[] };
  log: {
    lines: number;
    byMessage: Record<string, number>;
    /** Lines at warn or above. */
    warnings: number;
    malformedFrameLines: number;
    stackTraces: number;
    /** What the server wrote on stderr (nothing, when all is well). */
    stderr: string;
  };
  /** How late the fuzzer's own event loop ran (p99, ms): a loaded fuzzer would delay its own frames, not the honest client (a process of its own). */
  fuzzerLagP99Ms: number;
  /** The HTTP probes' answers, by status. */
  probes: Record<string, number>;
  /** How the server exited on SIGTERM at the end (0: cleanly). */
  exitCode: number | null;
  env: Record<string, string>;
}

/** One line of memory-probe.mjs: bytes, at a time in ms since the epoch. */
export interface MemorySample {
  at: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Taken right after a full garbage collection the fuzzer asked for (SIGUSR2). */
  collected: boolean;
  /** In a collected sample: the V8 heap of each other thread (the storage worker), after its own collection. */
  threads?: { heapTotal: number; heapUsed: number }[];
}

/** Every sample memory-probe.mjs has written so far (none if it could not start). */
function memorySamples(file: string): MemorySample[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as MemorySample);
}

const PROBE = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url));

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function latency(values: readonly number[]): Latency {
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) };
}

/** The nearest-rank percentile of `values` (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const say = options.progress ?? (() => undefined);
  const workers = options.workers ?? 8;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-fuzz-'));
  const memoryFile = join(dataDir, 'memory.jsonl');
  const server = await startProcess(dataDir, { env: { ...FUZZ_ENV, NODE_OPTIONS: `--expose-gc --import ${PROBE}`, PARLEY_FUZZ_MEMORY_FILE: memoryFile } });
  const pid = server.child.pid ?? 0;
  let crash: string | null = null;
  /** Set before the SIGTERM at the end: an exit after it is no crash. */
  let ending = false;
  server.child.once('exit', (code, signal) => {
    if (!ending) crash ??= `the server exited with ${code ?? signal}`;
  });
  const stderr: string[] = [];
  server.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const honestProcess = forkHonest();
  try {
    const { honest, hostile } = await signUpAll(server, options.accounts ?? 6);
    say(`server ${server.server.url} (pid ${pid}), data ${dataDir}, seed ${options.seed}`);
    await startHonest(honestProcess, server, honest, options.honestRate ?? 20);

    const rssCold = rssOf(pid);
    let rssPeak = rssCold;
    const probes: Record<string, number> = {};
    let lastAnswer = Date.now();
    const unresponsiveMs = options.unresponsiveMs ?? 10_000;
    const sampler = setInterval(() => {
      if (crash !== null) return;
      try {
        rssPeak = Math.max(rssPeak, rssOf(pid));
      } catch {
        // gone: the exit handler says so
      }
      if (Date.now() - lastAnswer > unresponsiveMs) crash = `the server answered no HTTP request for ${unresponsiveMs} ms`;
    }, 200);
    const prober = probeForever(server.server.url, probes, () => (lastAnswer = Date.now()), () => crash !== null);
    await wait(options.baselineMs ?? 5000);

    const tally = emptyTally();
    const recent = Array.from({ length: workers }, () => new RecentFrames(20));
    const rngs = recent.map((_, i) => createRng(options.seed + i));
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const hostileFrom = Date.now();
    const started = performance.now();
    const progress = setInterval(() => say(`${tally.frames} frames, ${tally.sessions} sessions, RSS ${mb(rssPeak)} peak`), 5000);
    const phase = (frames: number): Promise<void[]> =>
      Promise.all(
        recent.map((r, i) =>
          runWorker({
            wsUrl: server.server.wsUrl,
            accounts: hostile,
            frames: Math.floor(frames / workers) + (i < frames % workers ? 1 : 0),
            window: options.window ?? 8,
            rng: rngs[i] ?? createRng(options.seed + i),
            tally,
            recent: r,
            stopped: () => crash !== null,
          }),
        ),
      );
    // The warm-up: a fifth of the frames (at most 2,000) load every document, compile the hot paths and grow
    // the heap to its working size; the start RSS is taken after it, once its documents are unloaded.
    const warmUp = Math.min(2000, Math.floor(options.frames / 5));
    await phase(warmUp);
    const collect = (): Promise<void> => collectGarbage(server, memoryFile);
    const rssStart = await quietRss(pid, () => crash !== null, collect);
    const memoryStart = memorySamples(memoryFile).filter((m) => m.collected).at(-1) ?? null;
    say(`warm-up: ${tally.frames} frames; RSS ${mb(rssCold)} cold, ${mb(rssStart)} after the warm-up`);
    await phase(options.frames - warmUp);
    const seconds = (performance.now() - started) / 1000;
    const hostileUntil = Date.now();
    clearInterval(progress);
    lag.disable();
    say(`${tally.frames} frames in ${seconds.toFixed(1)} s; stopping the honest client`);

    const honestReport = await stopHonest(honestProcess);
    const end = await quietRss(pid, () => crash !== null, collect);
    const samples = memorySamples(memoryFile);
    const memory = {
      start: memoryStart,
      end: samples.filter((m) => m.collected).at(-1) ?? null,
      peakHeapTotal: Math.max(0, ...samples.filter((m) => memoryStart === null || m.at >= memoryStart.at).map((m) => m.heapTotal)),
    };
    clearInterval(sampler);
    await prober.stop();
    ending = true;
    const documents = await documentsOpen(server.server.wsUrl, hostile);
    const stopped = await stopCleanly(server);
    const { latencies, type: _type, ...honestRest } = honestReport;
    return {
      seed: options.seed,
      frames: tally.frames,
      seconds,
      framesPerSecond: tally.frames / seconds,
      hostile: tally,
      crash,
      lastFrames: crash === null ? [] : recent.map((r, worker) => ({ worker, frames: r.list() })),
      honest: {
        ...honestRest,
        ack: latency(latencies.filter((l) => l.at >= hostileFrom && l.at <= hostileUntil).map((l) => l.ms)),
        baseline: latency(latencies.filter((l) => l.at < hostileFrom).map((l) => l.ms)),
      },
      rss: { cold: rssCold, start: rssStart, peak: rssPeak, end },
      memory,
      documents,
      log: countLog(server.lines, stderr.join('')),
      errors: server.lines.filter((l) => l.includes('"level":50') || l.includes('"level":60')).slice(0, 20),
      fuzzerLagP99Ms: lag.percentile(99) / 1e6,
      probes,
      exitCode: stopped,
      env: { ...FUZZ_ENV },
    };
  } finally {
    if (honestProcess.exitCode === null) honestProcess.kill('SIGKILL');
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    // Kept after a crash, to look at.
    if (crash === null && options.keepDataDir !== true) rmSync(dataDir, { recursive: true, force: true });
  }
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Two honest users and `n` hostile ones. Hostile account i opens its inbox,
 * its prefs, its conversation with its pair (i xor 1, who fuzzes it too) and
 * one with an honest user (whose inbox it writes into when accepted).
 */
async function signUpAll(server: ServerProcess, n: number): Promise<{ honest: { user: string; token: string }[]; hostile: HostileAccount[] }> {
  if (n < 2) throw new Error('at least two hostile accounts (pairs share a conversation)');
  const url = server.server.url;
  const segment = segmentOf(Date.now());
  const honest = await Promise.all(['alice', 'bob'].map(async (user) => ({ user, token: (await signUp(url, user)).accessToken })));
  const hostile: HostileAccount[] = [];
  for (let i = 0; i < n; i++) {
    const user = `mallory${i}`;
    const pair = `mallory${(i ^ 1) < n ? i ^ 1 : 0}`;
    const token = (await signUp(url, user)).accessToken;
    hostile.push({ user, token, docs: [inboxPath(user), prefsPath(user), conversationPath(user, pair, segment), conversationPath(user, i % 2 === 0 ? 'alice' : 'bob', segment)] });
  }
  return { honest, hostile };
}

function forkHonest(): ChildProcess {
  return fork(fileURLToPath(new URL('./honest.ts', import.meta.url)), [], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextReply(child: ChildProcess): Promise<HonestToParent> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the honest client exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (reply: HonestToParent) => {
      child.off('exit', onExit);
      resolve(reply);
    });
  });
}

async function startHonest(child: ChildProcess, server: ServerProcess, [sender, peer]: { user: string; token: string }[], rate: number): Promise<void> {
  if (sender === undefined || peer === undefined) throw new Error('two honest users');
  const ready = nextReply(child);
  const start: ParentToHonest = { type: 'start', wsUrl: server.server.wsUrl, path: conversationPath(sender.user, peer.user, segmentOf(Date.now())), sender, peer, rate, settleMs: 30_000 };
  child.send(start);
  await ready;
}

async function stopHonest(child: ChildProcess): Promise<HonestReport> {
  const report = nextReply(child);
  child.send({ type: 'stop' } satisfies ParentToHonest);
  const reply = await report;
  if (reply.type !== 'report') throw new Error('the honest client did not report');
  return reply;
}

/** Asks the server for `GET /api/v1/ready` every 500 ms; any HTTP answer (200, or 503 while storage is in fault) shows it is alive. */
function probeForever(url: string, statuses: Record<string, number>, answered: () => void, over: () => boolean): { stop(): Promise<void> } {
  let stopping = false;
  const loop = (async () => {
    while (!stopping && !over()) {
      try {
        const response = await fetch(`${url}${API_PREFIX}/ready`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        answered();
      } catch {
        statuses.none = (statuses.none ?? 0) + 1;
      }
      await wait(500);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}

/**
 * The RSS of a quiet server: the hostile sockets are closed, so their
 * documents unload after PARLEY_UNLOAD_AFTER_MS (1 s); then a full garbage
 * collection (collectGarbage), then the lowest of
 * ten samples over 5 s, for V8 gives freed pages back some seconds after
 * the allocation stops.
 */
async function quietRss(pid: number, over: () => boolean, collect: () => Promise<void>): Promise<number> {
  await wait(2000);
  if (!over()) await collect();
  let low = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10 && !over(); i++) {
    low = Math.min(low, rssOf(pid));
    await wait(500);
  }
  return low;
}

/**
 * Asks the server for a full garbage collection (SIGUSR2 to memory-probe.mjs)
 * and waits until its sample after it is written. An idle server allocates
 * nothing, so V8 starts no collection by itself: without this the end RSS
 * counts the garbage of the last seconds of the run (in one 100,000-frame run
 * 145 MB of a 175 MB heap), and the figure says how busy the run was, not what
 * the server keeps.
 */
async function collectGarbage(server: ServerProcess, memoryFile: string): Promise<void> {
  const before = memorySamples(memoryFile).filter((m) => m.collected).length;
  server.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && memorySamples(memoryFile).filter((m) => m.collected).length === before; i++) await wait(50);
}

/**
 * Opens each hostile document once more as a member, loading it from
 * storage (it was unloaded): a document whose stored updates cannot be
 * applied again fails here (1011), and with it every later connection.
 */
async function documentsOpen(wsUrl: string, accounts: readonly HostileAccount[]): Promise<{ checked: number; failed: string[] }> {
  const failed: string[] = [];
  const docs = new Map<string, string>();
  for (const account of accounts) for (const doc of account.docs) if (!docs.has(doc)) docs.set(doc, account.token);
  for (const [doc, token] of docs) {
    const ws = new WebSocket(`${wsUrl}/${doc}?token=${encodeURIComponent(token)}`);
    const opened = await new Promise<boolean>((resolve) => {
      ws.on('message', (data: Buffer) => {
        if (data[0] === MESSAGE_SYNC) resolve(true);
      });
      ws.on('close', () => resolve(false));
      ws.on('error', () => resolve(false));
      setTimeout(() => resolve(false), 10_000);
    });
    ws.terminate();
    if (!opened) failed.push(doc);
  }
  return { checked: docs.size, failed };
}

async function stopCleanly(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.child.exitCode;
  await stopProcess(server);
  return server.child.exitCode;
}

function countLog(lines: readonly string[], stderr: string): FuzzReport['log'] {
  const byMessage: Record<string, number> = {};
  let warnings = 0;
  let malformedFrameLines = 0;
  let stackTraces = 0;
  for (const line of lines) {
    let entry: { level?: number; msg?: string; event?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const msg = entry.msg ?? entry.event ?? '';
    byMessage[msg] = (byMessage[msg] ?? 0) + 1;
    if ((entry.level ?? 0) >= 40) warnings++;
    if (msg.startsWith('malformed frame')) malformedFrameLines++;
    if (line.includes('"stack"')) stackTraces++;
  }
  return { lines: lines.length, byMessage, warnings, malformedFrameLines, stackTraces, stderr };
}

/**
 * What the report must show for the run to pass; each broken rule is one
 * line. `maxAckP99Ms`: the honest ack's p99 bound (only `npm run fuzz`
 * checks it: a timing figure, not a test); `allocatorSlack`: see memoryGrowth.
 */
export function failures(report: FuzzReport, { maxAckP99Ms, allocatorSlack }: { maxAckP99Ms?: number; allocatorSlack?: number } = {}): string[] {
  const out: string[] = [];
  if (report.crash !== null) out.push(`crash: ${report.crash}`);
  if (report.exitCode !== 0) out.push(`the server did not exit cleanly on SIGTERM: ${report.exitCode}`);
  const h = report.honest;
  if (h.sent === 0) out.push('the honest client sent nothing');
  if (h.acked !== h.sent) out.push(`honest messages acknowledged: ${h.acked} of ${h.sent} (unacked: ${h.missing.unacked.join(', ')})`);
  if (h.delivered !== h.sent) out.push(`honest messages delivered to the peer, stamped: ${h.delivered} of ${h.sent} (missing: ${h.missing.undelivered.join(', ')})`);
  if (Object.keys(h.rejected).length > 0) out.push(`the honest client was refused: ${JSON.stringify(h.rejected)}`);
  if (report.documents.failed.length > 0) out.push(`documents that no longer open: ${report.documents.failed.join(', ')}`);
  for (const problem of memoryGrowth(report, { allocatorSlack })) out.push(problem);
  const log = report.log;
  if (log.stackTraces > 0) out.push(`${log.stackTraces} log lines carry a stack trace`);
  if (log.malformedFrameLines > report.hostile.sessions) out.push(`${log.malformedFrameLines} malformed-frame lines for ${report.hostile.sessions} sockets (one per socket at most)`);
  if (log.warnings > log.malformedFrameLines) {
    const other = Object.entries(log.byMessage).filter(([msg]) => !msg.startsWith('malformed frame'));
    out.push(`${log.warnings - log.malformedFrameLines} warnings or errors besides malformed frames (${JSON.stringify(other)})`);
  }
  if (log.stderr !== '') out.push(`the server wrote on stderr: ${log.stderr.slice(0, 2000)}`);
  if (maxAckP99Ms !== undefined && !(h.ack.p99 < maxAckP99Ms)) out.push(`honest ack p99 ${h.ack.p99.toFixed(1)} ms is not under ${maxAckP99Ms} ms`);
  return out;
}

/**
 * What the server keeps, at the end against the start (both after a full
 * collection in every thread, once the hostile documents are unloaded):
 *
 * - its live memory, the JS heap of every thread plus the memory outside it
 *   that V8 is told of (Buffers): may grow by 10%. A leak of documents,
 *   sessions, frames or sockets is here.
 * - its RSS less the part of each V8 heap that is reserved but free: may grow
 *   by 10% plus `allocatorSlack` bytes. Not RSS itself: under a burst of
 *   allocation V8 grows its heap and gives the free pages back only later;
 *   and the C allocator keeps pages it freed (the compiler's and the
 *   sockets' buffers) when a live block sits among them. In 10,000 frames on
 *   a loaded CI machine that once moved this figure by 42 MB (209 to 251 MB)
 *   while the live heap moved by under 1 MB; on a quiet machine it moves by
 *   0 to 10 MB. `npm test` (10,000 frames) allows 64 MB for it; `npm run fuzz`
 *   (100,000 frames, the bar) allows none, and a leak outside V8's
 *   sight that hid in the 64 MB at 10,000 frames is ten times that there.
 *
 * Without the memory probe's samples, RSS is all there is.
 */
export function memoryGrowth(report: Pick<FuzzReport, 'rss' | 'memory'>, { allocatorSlack = 0 }: { allocatorSlack?: number } = {}): string[] {
  const { start, end } = report.memory;
  if (start === null || end === null) {
    return report.rss.end > report.rss.start * 1.1 + allocatorSlack ? [`RSS at the end ${mb(report.rss.end)} is over 110% of its start ${mb(report.rss.start)}${slack(allocatorSlack)}`] : [];
  }
  const out: string[] = [];
  const threads = (m: MemorySample): { heapTotal: number; heapUsed: number }[] => m.threads ?? [];
  const live = (m: MemorySample): number => m.heapUsed + m.external + threads(m).reduce((sum, t) => sum + t.heapUsed, 0);
  if (live(end) > live(start) * 1.1) out.push(`the live memory (JS heaps and external) at the end ${mb(live(end))} is over 110% of its start ${mb(live(start))}`);
  const free = (heap: { heapTotal: number; heapUsed: number }): number => heap.heapTotal - heap.heapUsed;
  const kept = (m: MemorySample): number => m.rss - free(m) - threads(m).reduce((sum, t) => sum + free(t), 0);
  if (kept(end) > kept(start) * 1.1 + allocatorSlack) {
    out.push(`RSS less V8's free heap at the end ${mb(kept(end))} is over 110% of its start ${mb(kept(start))}${slack(allocatorSlack)}`);
  }
  return out;
}

const slack = (bytes: number): string => (bytes === 0 ? '' : ` plus ${mb(bytes)}`);
