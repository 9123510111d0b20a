/**
 * `npm run bench:ab -- --base=<checkout> [--rounds=N]`: the accept path (W1
 * ramp, W2 fixed rate) of this checkout's Parley and of another checkout's,
 * side by side in one run: the two servers take turns, round after round,
 * each on a fresh data dir with the same load generator, so a busy machine
 * slows both alike. Prints a Markdown table to paste into bench/RESULTS.md.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { LoadGen } from './loadgen/client.ts';
import type { StepResult } from './loadgen/jobs.ts';
import { launchServer, REPO_ROOT } from './servers/launch.ts';
import { median } from './stats.ts';

const SIZES = {
  conversations: 200,
  devicesPerUser: 2,
  rampRates: [500, 750, 1000, 1250, 1500, 2000],
  warmupMs: 1000,
  measureMs: 3000,
  drainMs: 3000,
  p99LimitMs: 50,
  fixedRate: 1000,
  fixedWarmupMs: 1000,
  fixedMeasureMs: 6000,
  concurrency: 100,
};

interface Run {
  label: string;
  best: StepResult;
  fixed: StepResult;
}

const log = (line: string): void => {
  process.stderr.write(`[ab ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

async function once(label: string, repoRoot: string, loadgen: LoadGen): Promise<Run> {
  const server = await launchServer('parley', { repoRoot });
  const target = { kind: 'parley' as const, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir };
  try {
    await loadgen.run({ type: 'connect', target, conversations: SIZES.conversations, devicesPerUser: SIZES.devicesPerUser, concurrency: SIZES.concurrency });
    const ramp = (await loadgen.run({ type: 'ramp', rates: SIZES.rampRates, warmupMs: SIZES.warmupMs, measureMs: SIZES.measureMs, drainMs: SIZES.drainMs, p99LimitMs: SIZES.p99LimitMs })).result;
    const fixed = (await loadgen.run({ type: 'fixed', rate: SIZES.fixedRate, warmupMs: SIZES.fixedWarmupMs, measureMs: SIZES.fixedMeasureMs, drainMs: SIZES.drainMs * 2 })).result;
    await loadgen.run({ type: 'disconnect' });
    // No step within the p99 limit: the first step stands for the run.
    const best = ramp.best ?? ramp.steps[0];
    if (best === undefined) throw new Error('the ramp ran no step');
    log(`${label}: W1 best ${best.accepted.toFixed(0)}/s (p99 ${best.delivery.p99.toFixed(1)} ms); W2 ${fixed.offered}/s p50 ${fixed.delivery.p50.toFixed(1)} p99 ${fixed.delivery.p99.toFixed(1)} ms, lost ${fixed.lost}`);
    return { label, best, fixed };
  } finally {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const baseArg = args.find((a) => a.startsWith('--base='));
  if (baseArg === undefined) throw new Error('usage: npm run bench:ab -- --base=<another checkout of Parley> [--rounds=N]');
  const base = resolve(baseArg.slice('--base='.length));
  const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 3);
  const loadgen = new LoadGen();
  const runs: Run[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      const order = r % 2 === 0 ? (['base', 'this'] as const) : (['this', 'base'] as const);
      for (const label of order) runs.push(await once(label, label === 'base' ? base : REPO_ROOT, loadgen));
    }
  } finally {
    await loadgen.close();
  }
  const row = (label: string): string => {
    const mine = runs.filter((r) => r.label === label);
    const m = (f: (r: Run) => number): string => median(mine.map(f)).toFixed(1);
    return `| ${label === 'base' ? `base (${base})` : 'this checkout'} | ${mine.length} | ${m((r) => r.best.accepted)} | ${m((r) => r.best.delivery.p99)} | ${m((r) => r.fixed.delivery.p50)} | ${m((r) => r.fixed.delivery.p99)} | ${m((r) => r.fixed.ack.p99)} | ${mine.reduce((n, r) => n + r.fixed.lost, 0)} |`;
  };
  process.stdout.write(
    [
      `A/B of the accept path, ${SIZES.conversations} conversations × 2 users × ${SIZES.devicesPerUser} devices, medians of ${rounds} alternating rounds:`,
      '',
      '| server | runs | W1 best accepted/s | W1 p99 at best, ms | W2 p50, ms | W2 p99, ms | W2 ack p99, ms | W2 lost |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('base'),
      row('this'),
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:ab failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
