/**
 * W8 — CPU per message by stage: `npm run bench:w8 -- [--base=<checkout>]
 * [--rate=1000] [--measure-ms=6000] [--rounds=1] [--quick]`. Parley runs
 * under `node --cpu-prof` while the W1 load generator (200 conversations ×
 * 2 users × 2 devices, as in `bench:ab`) offers a fixed rate; the samples of
 * the measured window are attributed to stages by call stack (stages.ts) and
 * divided by the messages accepted in it: µs of CPU per accepted message per
 * stage. With `--base`, another checkout's server takes turns with this
 * one's, round after round, so "before" and "after" share one table and one
 * machine state. Writes its section into bench/RESULTS.md (RESULTS.quick.md
 * with `--quick`) between the W8 markers.
 *
 * The main thread's profile is busy time, which is CPU time on a thread that
 * never blocks; the storage worker's profile counts its fsync waits as busy,
 * so it is shown apart, beside the worker's CPU as /proc counts it for its
 * thread (the main thread's too, as a check on its profile): the busy figure
 * includes every fsync wait, so it is not the worker's CPU. Both /proc figures
 * include what `--cpu-prof` itself costs each thread; thread-cpu.ts measures
 * them without it. The process's CPU (from /proc: every thread, V8's
 * garbage collector threads included) is the total to read the stages
 * against. Commits are counted by the server itself (its `stopped` log line;
 * a checkout without the counter shows "–").
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LoadGen } from './loadgen/client.ts';
import type { StepResult } from './loadgen/jobs.ts';
import { ThreadSampler } from './proc.ts';
import { withSection } from './report.ts';
import { median } from './stats.ts';
import { launchServer, REPO_ROOT } from './servers/launch.ts';
import { isStorageWorker, profileStart, STAGES, stageTimes, type Stage } from './stages.ts';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

interface W8Sizes {
  conversations: number;
  devicesPerUser: number;
  rate: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  concurrency: number;
}

const FULL: W8Sizes = { conversations: 200, devicesPerUser: 2, rate: 1000, warmupMs: 1000, measureMs: 6000, drainMs: 3000, concurrency: 100 };
const QUICK: W8Sizes = { ...FULL, conversations: 50, rate: 300, measureMs: 3000 };

/** Trimmed off each end of the measured window: the profile's clock and the harness's agree only to within V8's start-up. */
const TRIM_MS = 500;

interface W8Run {
  label: 'base' | 'this';
  step: StepResult;
  /** Main thread, µs per accepted message, per stage. */
  perMessage: Record<Stage, number>;
  /** Per stage, its three largest functions by self time, µs per accepted message. */
  topFunctions: Record<Stage, [string, number][]>;
  mainBusyPerMessage: number;
  /** The storage worker's busy µs per message (fsync waits included), or null without its profile. */
  workerPerMessage: number | null;
  /** The whole process's CPU, µs per accepted message (/proc). */
  processPerMessage: number;
  /** The main thread's and the storage worker's CPU, µs per accepted message (/proc, per thread; no fsync waits), or null when unread. */
  threadsPerMessage: { main: number; writer: number | null } | null;
  /** Over the server's life: writes per commit, or null when the checkout does not count them. */
  writesPerCommit: number | null;
}

const log = (line: string): void => {
  process.stderr.write(`[w8 ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** The `stopped` line's commit counts, from the server's stdout (JSON log lines). */
function watchCommitCounts(stdout: NodeJS.ReadableStream): () => { commits: number; writes: number } | null {
  let counts: { commits: number; writes: number } | null = null;
  createInterface({ input: stdout }).on('line', (line) => {
    try {
      const event = JSON.parse(line) as { event?: unknown; commits?: unknown; writes?: unknown };
      if (event.event === 'stopped' && typeof event.commits === 'number' && typeof event.writes === 'number') counts = { commits: event.commits, writes: event.writes };
    } catch {
      // not a log line
    }
  });
  return () => counts;
}

async function once(label: 'base' | 'this', root: string, sizes: W8Sizes, loadgen: LoadGen): Promise<W8Run> {
  const profDir = mkdtempSync(join(tmpdir(), 'parley-w8-prof-'));
  // Info, for the `stopped` line with the commit counts; nothing is logged per message at info.
  const server = await launchServer('parley', { repoRoot: root, cpuProfDir: profDir, env: { PARLEY_LOG_LEVEL: 'info' } });
  const counts = watchCommitCounts(server.child.stdout!);
  let step: StepResult;
  // Sampled through the step, to cut to its measured window afterwards.
  const sampler = new ThreadSampler(server.pid);
  try {
    const target = { kind: 'parley' as const, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir };
    await loadgen.run({ type: 'connect', target, conversations: sizes.conversations, devicesPerUser: sizes.devicesPerUser, concurrency: sizes.concurrency });
    step = (await loadgen.run({ type: 'fixed', rate: sizes.rate, warmupMs: sizes.warmupMs, measureMs: sizes.measureMs, drainMs: sizes.drainMs })).result;
    await loadgen.run({ type: 'disconnect' });
  } finally {
    sampler.stop();
    // A clean exit (SIGTERM → close → exit) is what makes Node write the profiles.
    await server.stop(60_000);
    rmSync(server.dataDir, { recursive: true, force: true });
  }
  try {
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f));
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: the main thread is thread 0.
    const main = files.find((f) => f.split('.').at(-3) === '0');
    if (main === undefined) throw new Error(`${label}: the server wrote no main-thread profile`);
    const worker = files.find((f) => f !== main && isStorageWorker(f));
    const origin = profileStart(main);
    const from = origin + (step.windowStart - server.spawnedAt + TRIM_MS) * 1000;
    const to = origin + (step.windowEnd - server.spawnedAt - TRIM_MS) * 1000;
    const measured = stageTimes(main, from, to);
    // Accepted messages in the trimmed window, at the step's accepted rate.
    const messages = (step.accepted * (to - from)) / 1e6;
    const per = (micros: number): number => (messages > 0 ? micros / messages : 0);
    const perMessage = Object.fromEntries(STAGES.map((s) => [s, per(measured.stages[s])])) as Record<Stage, number>;
    const topFunctions = Object.fromEntries(
      STAGES.map((s) => [
        s,
        [...measured.functions[s]]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 3)
          .map(([name, micros]): [string, number] => [name, per(micros)]),
      ]),
    ) as Record<Stage, [string, number][]>;
    const seen = counts();
    const threads = sampler.perMessage(step.windowStart + TRIM_MS, step.windowEnd - TRIM_MS, step.accepted);
    const run: W8Run = {
      label,
      step,
      perMessage,
      topFunctions,
      mainBusyPerMessage: per(measured.busy),
      workerPerMessage: worker === undefined ? null : per(stageTimes(worker, from, to).busy),
      processPerMessage: step.accepted > 0 ? (step.serverCpu * 1e6) / step.accepted : 0,
      threadsPerMessage: threads,
      writesPerCommit: seen === null || seen.commits === 0 ? null : seen.writes / seen.commits,
    };
    log(
      `${label}: accepted ${step.accepted.toFixed(0)}/s, p99 ${step.delivery.p99.toFixed(1)} ms, process ${run.processPerMessage.toFixed(0)} µs/msg, storage worker CPU ${threads?.writer?.toFixed(0) ?? '–'} µs/msg, main busy ${run.mainBusyPerMessage.toFixed(0)} µs/msg (${STAGES.map((s) => `${s} ${perMessage[s].toFixed(0)}`).join(', ')})`,
    );
    return run;
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }
}

function render(runs: readonly W8Run[], sizes: W8Sizes, base: string | null, args: readonly string[], load: [number, number]): string {
  const labels = base === null ? (['this'] as const) : (['base', 'this'] as const);
  const of = (label: 'base' | 'this'): W8Run[] => runs.filter((r) => r.label === label);
  const cell = (label: 'base' | 'this', f: (r: W8Run) => number | null, digits = 0): string => {
    const values = of(label)
      .map(f)
      .filter((v): v is number => v !== null);
    return values.length === 0 ? '–' : median(values).toFixed(digits);
  };
  const head = labels.map((l) => (l === 'base' ? `before (${base})` : 'after (this checkout)'));
  const row = (name: string, f: (r: W8Run) => number | null, digits = 0): string => `| ${name} | ${labels.map((l) => cell(l, f, digits)).join(' | ')} |`;
  const rounds = of('this').length;
  return [
    '<!-- W8 -->',
    '## W8: CPU per message by stage',
    '',
    `\`npm run bench:w8 -- ${args.join(' ')}\`, ${new Date().toISOString()}: Parley under \`node --cpu-prof\` while the W1 load generator (${sizes.conversations} conversations × 2 users × ${sizes.devicesPerUser} devices) offers ${sizes.rate.toLocaleString('en-US')} msg/s for ${sizes.measureMs / 1000} s after ${sizes.warmupMs / 1000} s of warm-up; ${rounds} round(s)${base === null ? '' : ', the two servers taking turns'}, medians shown. The main thread's samples in the measured window (${TRIM_MS} ms trimmed off each end) are attributed to the innermost frame that names a stage (bench/src/stages.ts: decoding anywhere is decode; the validator and the hub's checks are validate; Yjs integrating under \`LiveDoc.accept\` is apply; the group commit, the storage proxy and \`postMessage\` are commit; frames, \`ws\` and socket writes are fan-out; inbox entries and unread counts are inbox), in µs per accepted message. The machine's 1-minute load average was ${load[0].toFixed(1)} at the start and ${load[1].toFixed(1)} at the end (2 cores).`,
    '',
    `| µs per accepted message | ${head.join(' | ')} |`,
    `| --- | ${labels.map(() => '---:').join(' | ')} |`,
    ...STAGES.map((s) => row(s, (r) => r.perMessage[s])),
    row('**main thread, busy**', (r) => r.mainBusyPerMessage),
    row('main thread CPU (/proc: its thread)', (r) => r.threadsPerMessage?.main ?? null),
    row('storage worker, busy (fsync waits included)', (r) => r.workerPerMessage),
    row('**storage worker CPU (/proc: its thread)**', (r) => r.threadsPerMessage?.writer ?? null),
    row('**whole process CPU (/proc: every thread)**', (r) => r.processPerMessage),
    row('accepted msg/s', (r) => r.step.accepted),
    row('delivery p99, ms', (r) => r.step.delivery.p99, 1),
    row('writes per commit (server life)', (r) => r.writesPerCommit, 1),
    '',
    `What each stage is made of (${labels.at(-1) === 'this' ? 'this checkout' : 'base'}, first round; self time, µs per accepted message):`,
    '',
    ...STAGES.map((s) => `- ${s}: ${(of(labels.at(-1) ?? 'this')[0]?.topFunctions[s] ?? []).map(([name, us]) => `\`${name}\` ${us.toFixed(0)}`).join(', ')}`),
    '<!-- /W8 -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = args.includes('--quick');
  const baseArg = value('base');
  const base = baseArg === undefined ? null : resolve(baseArg);
  const preset = quick ? QUICK : FULL;
  const sizes: W8Sizes = { ...preset, rate: Number(value('rate') ?? preset.rate), measureMs: Number(value('measure-ms') ?? preset.measureMs) };
  const rounds = Number(value('rounds') ?? 1);
  const load: [number, number] = [loadavg()[0] ?? 0, 0];
  const loadgen = new LoadGen();
  const runs: W8Run[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      const order = base === null ? (['this'] as const) : r % 2 === 0 ? (['base', 'this'] as const) : (['this', 'base'] as const);
      for (const label of order) runs.push(await once(label, label === 'base' && base !== null ? base : REPO_ROOT, sizes, loadgen));
    }
  } finally {
    await loadgen.close();
  }
  load[1] = loadavg()[0] ?? 0;
  const file = join(BENCH_DIR, quick ? 'RESULTS.quick.md' : 'RESULTS.md');
  let results = '';
  try {
    results = readFileSync(file, 'utf8');
  } catch {
    // no results yet: the section alone
  }
  writeFileSync(file, withSection(results, render(runs, sizes, base, args, load), 'W8'));
  log(`done: bench/${quick ? 'RESULTS.quick.md' : 'RESULTS.md'}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`w8 failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
