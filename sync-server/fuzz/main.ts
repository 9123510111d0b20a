/**
 * `npm run fuzz`: 100,000 hostile frames against a real server process while
 * an honest client sends (run.ts); prints the report and exits 1 when a rule
 * fails, the honest ack p99 under 100 ms among them.
 *
 *   npm run fuzz -- [--frames 100000] [--seed N] [--workers 8] [--window 8] [--rate 20] [--json report.json]
 *
 * Without --seed, one is drawn and printed first: `--seed` with it sends the
 * same frames again.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { failures, runFuzz, type FuzzReport, type MemorySample } from './run.ts';

/** Done-when of issue 13: the honest ack's p99 during the run. */
const MAX_ACK_P99_MS = 100;

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    workers: { type: 'string', default: '8' },
    window: { type: 'string', default: '8' },
    rate: { type: 'string', default: '20' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const threads = (m: MemorySample): string => (m.threads ?? []).map((t) => ` (a thread's heap ${mb(t.heapTotal)} / ${mb(t.heapUsed)})`).join('');
const memory = (m: MemorySample | null): string => (m === null ? 'not sampled' : `${mb(m.rss)} / ${mb(m.heapTotal)} / ${mb(m.heapUsed)} / ${mb(m.external)}${threads(m)}`);
const ms = (value: number): string => `${value.toFixed(1)} ms`;

function print(r: FuzzReport): void {
  const h = r.honest;
  const lines = [
    `seed ${r.seed}`,
    `frames ${r.frames} in ${r.seconds.toFixed(1)} s: ${Math.round(r.framesPerSecond)} frames/s, ${mb(r.hostile.bytes)}, ${r.hostile.sessions} hostile sessions`,
    `crashes ${r.crash === null ? 0 : 1}${r.crash === null ? '' : ` (${r.crash})`}; exit on SIGTERM: ${r.exitCode}`,
    `honest messages: sent ${h.sent}, acknowledged ${h.acked}, delivered ${h.delivered}; refused ${JSON.stringify(h.rejected)}; socket closes ${h.closes}`,
    `honest ack during the run: p50 ${ms(h.ack.p50)}, p99 ${ms(h.ack.p99)}, max ${ms(h.ack.max)} (${h.ack.count} messages); alone before it: p50 ${ms(h.baseline.p50)}, p99 ${ms(h.baseline.p99)}, max ${ms(h.baseline.max)} (${h.baseline.count})`,
    `RSS: cold ${mb(r.rss.cold)}, start (after the warm-up) ${mb(r.rss.start)}, peak ${mb(r.rss.peak)}, end ${mb(r.rss.end)} (${((r.rss.end / r.rss.start - 1) * 100).toFixed(1)}% of the start)`,
    `server memory (rss / V8 heap reserved / JS heap used / external): start ${memory(r.memory.start)}; end ${memory(r.memory.end)}; V8 heap reserved at its peak ${mb(r.memory.peakHeapTotal)}`,
    `documents opened again after the run: ${r.documents.checked - r.documents.failed.length} of ${r.documents.checked}`,
    `log: ${r.log.lines} lines, ${r.log.warnings} at warn or above, ${r.log.malformedFrameLines} malformed-frame lines, ${r.log.stackTraces} stack traces`,
    `log by message: ${JSON.stringify(r.log.byMessage)}`,
    `hostile sockets closed by the server: ${JSON.stringify(r.hostile.closedBy)}; refused: ${JSON.stringify(r.hostile.refused)}`,
    `server answers to hostile sockets: ${JSON.stringify(r.hostile.controls)}`,
    `frames by kind: ${JSON.stringify(r.hostile.byKind)}`,
    `HTTP probes: ${JSON.stringify(r.probes)}; fuzzer event-loop lag p99 ${ms(r.fuzzerLagP99Ms)}`,
    `server settings: ${JSON.stringify(r.env)} (and test/process.ts's)`,
  ];
  for (const line of lines) process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  process.stdout.write(`fuzz: seed ${seed} (replay with --seed ${seed})\n`);
  const report = await runFuzz({
    frames: Number(values.frames),
    seed,
    workers: Number(values.workers),
    window: Number(values.window),
    honestRate: Number(values.rate),
    keepDataDir: values.keep,
    progress: (line) => process.stdout.write(`  ${line}\n`),
  });
  print(report);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report, null, 2));
  const failed = failures(report, { maxAckP99Ms: MAX_ACK_P99_MS });
  for (const line of failed) process.stdout.write(`FAIL ${line}\n`);
  for (const line of report.errors) process.stdout.write(`server error: ${line}\n`);
  if (report.lastFrames.length > 0) {
    const file = `fuzz-crash-${seed}.json`;
    writeFileSync(file, JSON.stringify(report.lastFrames, null, 2));
    process.stdout.write(`the last frames each worker sent before the crash (hex): ${file}\n`);
  }
  process.stdout.write(failed.length === 0 ? 'fuzz: all rules hold\n' : `fuzz: ${failed.length} rules broken\n`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
