/**
 * CPU per message by thread, without a profiler: `npm run bench:thread-cpu --
 * [--base=<checkout>] [--rounds=3] [--rate=1000] [--measure-ms=6000]`. Parley
 * runs as `npm start` runs it while the W1 load generator (200 conversations
 * × 2 users × 2 devices) offers a fixed rate; /proc's per-thread counters,
 * read through the step, give the main thread's and the storage worker's CPU
 * in the measured window, divided by the messages accepted in it. W8 shows
 * the same figures, but under `--cpu-prof`, whose sampling costs each thread
 * CPU of its own; this is the figure to compare a change to the worker by.
 * With `--base`, the two checkouts take turns, round after round; the
 * medians are printed (nothing is written to RESULTS.md).
 */
import { resolve } from 'node:path';
import { LoadGen } from './loadgen/client.ts';
import { ThreadSampler } from './proc.ts';
import { launchServer, REPO_ROOT } from './servers/launch.ts';
import { median } from './stats.ts';

interface Run {
  label: string;
  accepted: number;
  main: number;
  worker: number | null;
}

async function once(label: string, root: string, rate: number, measureMs: number, loadgen: LoadGen): Promise<Run> {
  const server = await launchServer('parley', { repoRoot: root });
  const sampler = new ThreadSampler(server.pid);
  try {
    const target = { kind: 'parley' as const, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir };
    await loadgen.run({ type: 'connect', target, conversations: 200, devicesPerUser: 2, concurrency: 100 });
    const step = (await loadgen.run({ type: 'fixed', rate, warmupMs: 1000, measureMs, drainMs: 3000 })).result;
    await loadgen.run({ type: 'disconnect' });
    const cpu = sampler.perMessage(step.windowStart, step.windowEnd, step.accepted);
    if (cpu === null) throw new Error(`${label}: the thread samples do not span the measured window`);
    const run = { label, accepted: step.accepted, main: cpu.main, worker: cpu.writer };
    process.stderr.write(`${label}: accepted ${run.accepted.toFixed(0)}/s, main ${run.main.toFixed(0)} µs/msg, storage worker ${run.worker?.toFixed(1) ?? '–'} µs/msg\n`);
    return run;
  } finally {
    sampler.stop();
    await server.stop(60_000);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const baseArg = value('base');
  const rounds = Number(value('rounds') ?? 3);
  const rate = Number(value('rate') ?? 1000);
  const measureMs = Number(value('measure-ms') ?? 6000);
  const checkouts: [string, string][] = baseArg === undefined ? [['this', REPO_ROOT]] : [['base', resolve(baseArg)], ['this', REPO_ROOT]];
  const loadgen = new LoadGen();
  const runs: Run[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      for (const [label, root] of r % 2 === 0 ? checkouts : [...checkouts].reverse()) runs.push(await once(label, root, rate, measureMs, loadgen));
    }
  } finally {
    await loadgen.close();
  }
  for (const [label] of checkouts) {
    const mine = runs.filter((r) => r.label === label);
    const workers = mine.map((r) => r.worker).filter((w): w is number => w !== null);
    process.stdout.write(
      `${label}: median of ${mine.length}: main ${median(mine.map((r) => r.main)).toFixed(0)} µs/msg, storage worker ${workers.length === 0 ? '–' : median(workers).toFixed(1)} µs/msg (runs: ${workers.map((w) => w.toFixed(0)).join(', ')})\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`thread-cpu failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
