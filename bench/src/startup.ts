/**
 * Start-up of Parley's server, compiled (`npm run build:server`: what
 * `npm start` runs) against its TypeScript under tsx (development and tests):
 * the time from spawn to the first 200 from /api/v1/ready (the database
 * opened and checked, the storage worker up), the CPU the process spent
 * getting there (less skewed than the time when other work shares the
 * machine) and its resident memory then. Each run starts on a fresh data
 * dir; the two alternate, so that a busy spell hits both alike.
 *
 *   npm run bench:startup [-- --runs 5]   (builds the server first)
 *
 * Prints a Markdown table (medians, with the range over the runs).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sampleProc } from './proc.ts';
import { freshDataDir, launchServer, REPO_ROOT } from './servers/launch.ts';

interface Start {
  /** Spawn to the first 200 from /api/v1/ready, ms. */
  readyMs: number;
  /** User + system CPU of the process until then, ms. */
  cpuMs: number;
  rssBytes: number;
}

const VARIANTS = [
  { name: 'compiled (node sync-server/dist/main.js)', compiled: true },
  { name: 'tsx (tsx sync-server/src/main.ts)', compiled: false },
] as const;

async function ready(url: string): Promise<void> {
  for (;;) {
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function startOnce(compiled: boolean): Promise<Start> {
  const dataDir = freshDataDir('startup');
  const server = await launchServer('parley', { dataDir, compiled });
  try {
    await ready(`http://127.0.0.1:${server.port}/api/v1/ready`);
    const readyMs = Date.now() - server.spawnedAt;
    const { cpu, rss } = sampleProc(server.pid);
    return { readyMs, cpuMs: cpu * 1000, rssBytes: rss };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
};

const cell = (values: readonly number[], unit: number, digits: number): string =>
  `${(median(values) / unit).toFixed(digits)} (${(Math.min(...values) / unit).toFixed(digits)}–${(Math.max(...values) / unit).toFixed(digits)})`;

async function main(): Promise<void> {
  const at = process.argv.indexOf('--runs');
  const runs = at === -1 ? 5 : Number(process.argv[at + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs');
  if (!existsSync(join(REPO_ROOT, 'sync-server/dist/main.js'))) throw new Error('no compiled server: run `npm run build:server` first');
  const starts = new Map<boolean, Start[]>(VARIANTS.map((v) => [v.compiled, []]));
  for (let run = 0; run < runs; run++) for (const v of VARIANTS) starts.get(v.compiled)?.push(await startOnce(v.compiled));
  const MiB = 1024 * 1024;
  const lines = [
    `Start-up, ${runs} runs each, fresh data dir: median (min–max).`,
    '',
    '| server | spawn → /api/v1/ready 200, ms | CPU to ready, ms | RSS when ready, MiB |',
    '| --- | --- | --- | --- |',
    ...VARIANTS.map((v) => {
      const s = starts.get(v.compiled) ?? [];
      return `| ${v.name} | ${cell(s.map((x) => x.readyMs), 1, 0)} | ${cell(s.map((x) => x.cpuMs), 1, 0)} | ${cell(s.map((x) => x.rssBytes), MiB, 1)} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
