/// <reference lib="dom" />
/**
 * Exploration aid for W6 (not the bench, writes no results): the same set-up
 * as w6.ts, then RUNS cold starts + opens, each open under a Chrome trace;
 * prints the open times and the renderer main thread's CPU time (the trace's
 * thread clock) from the click to the frame showing the latest message, which
 * varies much less than wall time on a shared machine.
 *
 *   DIST=/tmp/dist MESSAGES=10000 MONTHS=2 RUNS=7 npx tsx bench/src/w6-explore.ts
 *
 * NOBUILD=1 serves DIST as it is (A/B two builds); NOMINIFY=1 builds without
 * minifying (readable names); TASKS=1 lists the main thread's tasks; NOTES=1
 * logs which messages are in the DOM at each mutation (it costs the open);
 * PROFILE=1 writes a CPU profile of each open to /tmp/w6-run<n>.cpuprofile;
 * TRACE=0 skips tracing. The first run's trace goes to /tmp/w6-trace.json.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { launchServer, REPO_ROOT } from './servers/launch.ts';
import { deviceWithHistory, frameWhen, seedHistory } from './w6.ts';

const MESSAGES = Number(process.env['MESSAGES'] ?? 10_000);
const MONTHS = Number(process.env['MONTHS'] ?? 2);
const RUNS = Number(process.env['RUNS'] ?? 5);
const DIST = process.env['DIST'] ?? '/tmp/parley-w6-explore';
const TRACE = process.env['TRACE'] !== '0';
const NOMINIFY = process.env['NOMINIFY'] === '1';
const PROFILE = process.env['PROFILE'] === '1';

function timeOpen(page: Page, latest: string): Promise<[number, number]> {
  return page.evaluate(
    ([text, withNotes]) =>
      new Promise<[number, number]>((resolve, reject) => {
        const link = document.querySelector<HTMLAnchorElement>('nav a[href="/c/alice"]');
        if (link === null) return reject(new Error('no conversation link'));
        const started = performance.now();
        const notes: string[] = [];
        (window as unknown as { w6notes: string[] }).w6notes = notes;
        const observer = new MutationObserver(() => {
          const all = [...document.querySelectorAll<HTMLElement>('[role="log"] article[data-testid="message"]')];
          const line = `${(performance.now() - started).toFixed(1)} articles ${all.length} ${all[0]?.dataset['id'] ?? ''}..${all.at(-1)?.dataset['id'] ?? ''} scrollTop ${document.querySelector('[role="log"]')?.scrollTop ?? '-'}`;
          if (notes.at(-1)?.slice(notes.at(-1)!.indexOf(' ')) !== line.slice(line.indexOf(' '))) notes.push(line);
        });
        if (withNotes) observer.observe(document.body, { childList: true, subtree: true });
        performance.mark('w6-click');
        link.click();
        const deadline = started + 30_000;
        const check = (): void => {
          const log = document.querySelector('[role="log"][aria-label="Messages"]');
          const shown = [...(log?.querySelectorAll('article .text') ?? [])].some((e) => e.textContent === text);
          if (shown) {
            performance.mark('w6-shown');
            observer.disconnect();
            resolve([performance.now() - started, started]);
          } else if (performance.now() > deadline) reject(new Error(`${text} not rendered`));
          else requestAnimationFrame(check);
        };
        check();
      }),
    [latest, process.env['NOTES'] === '1'] as const,
  );
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  cat: string;
  args?: { name?: string; data?: { url?: string; functionName?: string; lineNumber?: number } };
}

const cpus: number[] = [];
/** What the renderer's main thread did between the two marks. */
function summarise(buffer: Buffer): string {
  const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && events.some((m) => m.pid === e.pid && m.name === 'w6-click'));
  if (main === undefined) return 'no main thread';
  const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid);
  const click = mine.find((e) => e.name === 'w6-click')?.ts ?? 0;
  const shown = mine.find((e) => e.name === 'w6-shown')?.ts ?? 0;
  const lines: string[] = [`window ${((shown - click) / 1000).toFixed(1)} ms`];
  const tasks = mine.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.ts + (e.dur ?? 0) >= click && e.ts <= shown);
  let busy = 0;
  let cpu = 0;
  for (const t of tasks) {
    const end = t.ts + (t.dur ?? 0);
    const inner = mine.filter((e) => e.ph === 'X' && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= end && e !== t && e.name !== 'RunTask');
    const byName = new Map<string, number>();
    for (const e of inner) byName.set(e.name, (byName.get(e.name) ?? 0) + (e.dur ?? 0));
    const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n, d]) => `${n} ${(d / 1000).toFixed(1)}`);
    const fn = inner.find((e) => e.name === 'FunctionCall' || e.name === 'EvaluateScript' || e.name === 'v8.compile');
    const data = fn?.args?.data;
    const where = data?.url ? ` ${data.functionName ?? ''}@${data.url.split('/').pop() ?? ''}:${data.lineNumber ?? ''}` : '';
    busy += t.dur ?? 0;
    cpu += t.tdur ?? 0;
    if ((t.dur ?? 0) > 500 && process.env['TASKS'] === '1') lines.push(`  +${((t.ts - click) / 1000).toFixed(1)} ms  ${((t.dur ?? 0) / 1000).toFixed(1)} ms${where} | ${top.join(', ')}`);
  }
  lines.push(`busy ${(busy / 1000).toFixed(1)} ms, cpu ${(cpu / 1000).toFixed(1)} ms in ${tasks.length} tasks`);
  cpus.push(cpu / 1000);
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.env['NOBUILD'] !== '1') {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', DIST, '--emptyOutDir', '--logLevel', 'error', ...(NOMINIFY ? ['--minify', 'false'] : [])], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  process.env['PARLEY_STATIC_DIR'] = DIST;
  const server = await launchServer('parley');
  const url = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const { context, page, latest } = await deviceWithHistory(browser, url, await seedHistory(url, server.dataDir, { messages: MESSAGES, months: MONTHS }));
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await context.setOffline(true);
    const opens: number[] = [];
    const lists: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      await page.goto('/', { waitUntil: 'commit' });
      const listed = await frameWhen(page, 'nav a[href="/c/alice"]');
      const traced = TRACE && run > 0;
      if (traced) await browser.startTracing(page, { categories: ['devtools.timeline', 'blink.user_timing', 'v8.execute', 'disabled-by-default-devtools.timeline'] });
      const cdp = PROFILE && run > 0 ? await page.context().newCDPSession(page) : null;
      if (cdp !== null) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
        await cdp.send('Profiler.start');
      }
      const [opened] = await timeOpen(page, latest);
      if (cdp !== null) {
        const { profile } = await cdp.send('Profiler.stop');
        writeFileSync(`/tmp/w6-run${run}.cpuprofile`, JSON.stringify(profile));
        await cdp.detach();
      }
      if (process.env['NOTES'] === '1') console.log((await page.evaluate(() => (window as unknown as { w6notes: string[] }).w6notes)).join('\n'));
      if (traced) {
        const buffer = await browser.stopTracing();
        if (run === 1) writeFileSync('/tmp/w6-trace.json', buffer);
        console.log(`run ${run}: list ${listed.toFixed(0)} open ${opened.toFixed(0)} (load ${loadavg()[0]?.toFixed(1)})\n${summarise(buffer)}`);
      } else console.log(`run ${run}: list ${listed.toFixed(0)} open ${opened.toFixed(0)} (load ${loadavg()[0]?.toFixed(1)})`);
      if (run > 0) {
        opens.push(opened);
        lists.push(listed);
      }
    }
    console.log(await page.evaluate(() => { const log = document.querySelector('[role="log"]')!; const rows = [...log.querySelectorAll<HTMLElement>('.row')].map((r) => r.getBoundingClientRect().height); return `log ${log.clientHeight} inner ${window.innerHeight} rows ${rows.length}: ${rows.map((h) => h.toFixed(0)).join(' ')}`; }));
    const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length / 2) - 1] ?? NaN;
    console.log(`p50 list ${p50(lists).toFixed(0)} open ${p50(opens).toFixed(0)} cpu ${p50(cpus).toFixed(1)}; opens ${opens.map((o) => o.toFixed(0)).join(' ')}; cpu ${cpus.map((o) => o.toFixed(0)).join(' ')}`);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
