/**
 * `npm run bench` — Parley and its peers on the same workloads in one run;
 * writes bench/RESULTS.md and bench/chart.svg. `npm run bench -- --quick` is
 * the CI smoke test (small sizes, all three servers, < 60 s, no assertions)
 * and writes bench/RESULTS.quick.md and bench/chart.quick.svg instead.
 *
 * Per server, each in its own child process and on a fresh data dir:
 *   W1 ramp → W2 fixed rate → W5 storage (after a clean stop), then a fresh
 *   server for W3 (idle connections). Then W4 (catching up after being
 *   offline, Parley only, w4.ts); `--w4-only` runs W4 alone and replaces its
 *   section in the last RESULTS file. Then W6 (the web client in Chromium,
 *   w6.ts; `--w6-only` likewise). In the full run, a last Parley run
 *   under `node --cpu-prof` at the rate where W1 stopped, for the profile.
 * W8 (CPU per message by stage, before and after) is its own script,
 * `npm run bench:w8` (w8.ts); a full run keeps its last section.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocStats, IdleResult, RampResult, StepResult } from './loadgen/jobs.ts';
import { LoadGen } from './loadgen/client.ts';
import { summarizeProfile, type ProfileSummary } from './profile.ts';
import { carrySection, renderChart, renderResults, type ServerResult } from './report.ts';
import { diskUsage } from './storage.ts';
import { launchServer, SERVER_KINDS, type RunningServer, type ServerKind } from './servers/launch.ts';
import { renderW4, runW4, W4_FULL, W4_QUICK, withW4 } from './w4.ts';
import { checkInitialJs, renderW6, runW6, W6_FULL, W6_QUICK, withW6 } from './w6.ts';

import { QUICK, FULL } from './sizes.ts';
import type { Sizes } from './sizes.ts';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const fmtStep = (s: StepResult): string =>
  `offered ${s.offered}/s accepted ${s.accepted.toFixed(0)}/s p50 ${s.delivery.p50.toFixed(1)} p99 ${s.delivery.p99.toFixed(1)} ms lost ${s.lost} server ${s.serverCpu.toFixed(2)} cores loadgen ${s.loadgenCpu.toFixed(2)} cores`;

async function messaging(kind: ServerKind, sizes: Sizes, loadgen: LoadGen): Promise<{ ramp: RampResult; fixed: StepResult; docs: DocStats; server: RunningServer }> {
  const server = await launchServer(kind);
  const target = { kind, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir };
  try {
    const connected = await loadgen.run({ type: 'connect', target, conversations: sizes.conversations, devicesPerUser: sizes.devicesPerUser, concurrency: sizes.concurrency });
    log(`${kind}: ${connected.result.devices} devices connected in ${connected.result.seconds.toFixed(1)} s`);
    const ramp = (
      await loadgen.run({ type: 'ramp', rates: sizes.rampRates, warmupMs: sizes.warmupMs, measureMs: sizes.measureMs, drainMs: sizes.drainMs, p99LimitMs: sizes.p99LimitMs })
    ).result;
    for (const s of ramp.steps) log(`${kind} W1 ${fmtStep(s)}`);
    const fixed = (await loadgen.run({ type: 'fixed', rate: sizes.fixedRate, warmupMs: sizes.fixedWarmupMs, measureMs: sizes.fixedMeasureMs, drainMs: sizes.drainMs * 2 })).result;
    log(`${kind} W2 ${fmtStep(fixed)} p99.9 ${fixed.delivery.p999.toFixed(1)} ms`);
    const docs = (await loadgen.run({ type: 'docStats' })).result;
    await loadgen.run({ type: 'disconnect' });
    return { ramp, fixed, docs, server };
  } finally {
    await server.stop();
  }
}

async function idle(kind: ServerKind, sizes: Sizes, loadgen: LoadGen): Promise<IdleResult> {
  const server = await launchServer(kind);
  try {
    const result = (await loadgen.run({ type: 'idle', target: { kind, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir }, devices: sizes.idleDevices, concurrency: sizes.concurrency })).result;
    log(`${kind} W3 ${result.devices} devices, ${((result.rssAfter - result.rssBefore) / result.devices / 1024).toFixed(1)} KB each, connected in ${result.connectSeconds.toFixed(1)} s`);
    await loadgen.run({ type: 'disconnect' });
    return result;
  } finally {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

/** Parley under `node --cpu-prof` at `rate` (where W1 stopped), for the profile table. */
async function profileParley(sizes: Sizes, rate: number, loadgen: LoadGen): Promise<{ rate: number; step: StepResult; summary: ProfileSummary; file: string }> {
  const dir = join(BENCH_DIR, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await launchServer('parley', { cpuProfDir: dir });
  let step: StepResult;
  try {
    const target = { kind: 'parley' as const, wsBase: server.wsBase, pid: server.pid, dataDir: server.dataDir };
    await loadgen.run({ type: 'connect', target, conversations: sizes.conversations, devicesPerUser: sizes.devicesPerUser, concurrency: sizes.concurrency });
    step = (await loadgen.run({ type: 'fixed', rate, warmupMs: 1000, measureMs: 6000, drainMs: sizes.drainMs })).result;
    await loadgen.run({ type: 'disconnect' });
  } finally {
    // A clean exit (SIGTERM → close → exit) is what makes Node write the profile.
    await server.stop(60_000);
    rmSync(server.dataDir, { recursive: true, force: true });
  }
  // The main thread's profile is the largest (tsx's loader thread writes a small one too).
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((x, y) => statSync(join(dir, y)).size - statSync(join(dir, x)).size)[0];
  if (file === undefined) throw new Error('the server wrote no .cpuprofile');
  // The measured window relative to the spawn, trimmed by 0.5 s each side for the profiler's start-up offset.
  const window: [number, number] = [step.windowStart - server.spawnedAt + 500, step.windowEnd - server.spawnedAt - 500];
  return { rate, step, summary: summarizeProfile(join(dir, file), window), file: `bench/profiles/${file}` };
}

/** The last RESULTS file, or nothing yet (RESULTS.quick.md is in no commit: a fresh checkout has none). */
const lastResults = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const kinds = onlyArg === undefined ? SERVER_KINDS : (onlyArg.slice('--only='.length).split(',') as ServerKind[]);
  const sizes = quick ? QUICK : FULL;
  const started = Date.now();
  const suffix = quick ? '.quick' : '';
  if (args.includes('--w4-only')) {
    // W4 alone, its section replaced in the last RESULTS file.
    const file = join(BENCH_DIR, `RESULTS${suffix}.md`);
    writeFileSync(file, withW4(lastResults(file), renderW4(await runW4(quick ? W4_QUICK : W4_FULL, log), quick, true)));
    log(`W4 done in ${((Date.now() - started) / 1000).toFixed(0)} s: bench/RESULTS${suffix}.md`);
    return;
  }
  if (args.includes('--w6-only')) {
    // W6 alone, its section replaced in the last RESULTS file.
    const file = join(BENCH_DIR, `RESULTS${suffix}.md`);
    const w6 = await runW6(quick ? W6_QUICK : W6_FULL, log);
    writeFileSync(file, withW6(lastResults(file), renderW6(w6, quick, true)));
    log(`W6 done in ${((Date.now() - started) / 1000).toFixed(0)} s: bench/RESULTS${suffix}.md`);
    checkInitialJs(w6);
    return;
  }
  const loadgen = new LoadGen();
  const results: ServerResult[] = [];
  let profile: Awaited<ReturnType<typeof profileParley>> | null = null;
  try {
    for (const kind of kinds) {
      const m = await messaging(kind, sizes, loadgen);
      const disk = diskUsage(kind, m.server.dataDir);
      rmSync(m.server.dataDir, { recursive: true, force: true });
      const w3 = await idle(kind, sizes, loadgen);
      results.push({ kind, ramp: m.ramp, fixed: m.fixed, docs: m.docs, disk, idle: w3 });
    }
    const parley = results.find((r) => r.kind === 'parley');
    if (sizes.profile && parley !== undefined) {
      const stopped = parley.ramp.steps.at(-1);
      const rate = stopped !== undefined && stopped !== parley.ramp.best ? stopped.offered : sizes.fixedRate;
      profile = await profileParley(sizes, rate, loadgen);
      log(`profile at ${rate}/s: ${profile.summary.groups.slice(0, 5).map((g) => `${g.name} ${(g.share * 100).toFixed(0)}%`).join(', ')}`);
    }
  } finally {
    await loadgen.close();
  }
  const w4 = kinds.includes('parley') ? await runW4(quick ? W4_QUICK : W4_FULL, log) : null;
  const w6 = kinds.includes('parley') ? await runW6(quick ? W6_QUICK : W6_FULL, log) : null;
  const seconds = (Date.now() - started) / 1000;
  const chartName = `chart${suffix}.svg`;
  writeFileSync(join(BENCH_DIR, chartName), renderChart(results, sizes.p99LimitMs));
  const rendered = renderResults({ results, sizes, quick, seconds, chartName, profile, args });
  const withFour = w4 === null ? rendered : withW4(rendered, renderW4(w4, quick));
  const file = join(BENCH_DIR, `RESULTS${suffix}.md`);
  const previous = lastResults(file);
  // W8 (npm run bench:w8) and Cluster (npm run bench:cluster) run on their own: their last tables stay.
  const next = w6 === null ? withFour : withW6(withFour, renderW6(w6, quick));
  writeFileSync(file, carrySection(previous, carrySection(previous, next, 'W8'), 'Cluster'));
  log(`done in ${seconds.toFixed(0)} s: bench/RESULTS${suffix}.md, bench/${chartName}`);
  if (w6 !== null) checkInitialJs(w6);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
