/** RESULTS.md and the throughput/latency chart (SVG), from one run's figures. */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DocStats, IdleResult, RampResult, StepResult } from './loadgen/jobs.ts';
import type { ProfileSummary } from './profile.ts';
import type { Sizes } from './sizes.ts';
import { REPO_ROOT, SERVER_LABELS, type ServerKind } from './servers/launch.ts';
import type { DiskUsage } from './storage.ts';

export interface ServerResult {
  kind: ServerKind;
  ramp: RampResult;
  fixed: StepResult;
  docs: DocStats;
  disk: DiskUsage | null;
  idle: IdleResult;
}

const COLORS: Record<ServerKind, string> = { parley: '#d1495b', yws: '#00798c', hocuspocus: '#edae49' };

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '–');
const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const kbPerConn = (r: IdleResult): number => (r.rssAfter - r.rssBefore) / r.devices / 1024;

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function renderChart(results: readonly ServerResult[], limitMs: number): string {
  const W = 720;
  const H = 420;
  const L = 70;
  const R = 200;
  const T = 30;
  const B = 50;
  const points = results.flatMap((r) => r.ramp.steps.map((s) => ({ x: s.accepted, y: s.delivery.p99 }))).filter((p) => Number.isFinite(p.y));
  const maxX = Math.max(1000, ...points.map((p) => p.x)) * 1.05;
  const minY = 0.5;
  const maxY = Math.max(limitMs * 4, ...points.map((p) => p.y));
  const x = (v: number): number => L + (v / maxX) * (W - L - R);
  const y = (v: number): number => H - B - ((Math.log10(Math.max(minY, v)) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY))) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18" font-size="14" font-weight="bold">W1: delivery latency (p99, solid; p50, dashed) against accepted messages/s</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (maxX / 5) * i;
    out.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${int(v)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">accepted messages/s</text>`);
  for (const v of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
    if (v > maxY) break;
    out.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">delivery latency, ms (log)</text>`);
  out.push(`<line x1="${L}" y1="${y(limitMs)}" x2="${W - R}" y2="${y(limitMs)}" stroke="#888" stroke-dasharray="2 3"/>`, `<text x="${W - R - 4}" y="${y(limitMs) - 4}" text-anchor="end" fill="#666">p99 limit ${limitMs} ms</text>`);
  results.forEach((r, i) => {
    const steps = r.ramp.steps.filter((s) => Number.isFinite(s.delivery.p99));
    const line = (pick: (s: StepResult) => number): string => steps.map((s) => `${x(s.accepted).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${COLORS[r.kind]}" stroke-width="2" points="${line((s) => s.delivery.p99)}"/>`);
    out.push(`<polyline fill="none" stroke="${COLORS[r.kind]}" stroke-width="1.5" stroke-dasharray="5 4" points="${line((s) => s.delivery.p50)}"/>`);
    for (const s of steps) out.push(`<circle cx="${x(s.accepted).toFixed(1)}" cy="${y(s.delivery.p99).toFixed(1)}" r="3" fill="${COLORS[r.kind]}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + 10 + i * 22}" width="14" height="4" fill="${COLORS[r.kind]}"/>`, `<text x="${W - R + 32}" y="${T + 16 + i * 22}">${SERVER_LABELS[r.kind].replace(/&/g, '&amp;')}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

interface RenderInput {
  results: readonly ServerResult[];
  sizes: Sizes;
  quick: boolean;
  seconds: number;
  chartName: string;
  profile: { rate: number; step: StepResult; summary: ProfileSummary; file: string } | null;
  args: readonly string[];
}

export function renderResults({ results, sizes, quick, seconds, chartName, profile, args }: RenderInput): string {
  const parley = results.find((r) => r.kind === 'parley');
  const ratio = (r: ServerResult, pick: (r: ServerResult) => number | null): string => {
    const v = pick(r);
    const base = parley === undefined ? null : pick(parley);
    if (v === null || !Number.isFinite(v)) return '';
    if (r.kind === 'parley' || base === null || !Number.isFinite(base) || base === 0) return '';
    return ` (${(v / base).toFixed(2)}×)`;
  };
  const cell = (r: ServerResult, text: string, pick: (r: ServerResult) => number | null): string => `${text}${ratio(r, pick)}`;
  const best = (r: ServerResult): StepResult | null => r.ramp.best;
  const bytesPerMessage = (r: ServerResult): number | null => (r.disk === null || r.docs.messages === 0 ? null : r.disk.fileBytes / r.docs.messages);
  const jsonPerMessage = (r: ServerResult): number => (r.docs.messages === 0 ? Number.NaN : r.docs.jsonBytes / r.docs.messages);

  const rows: [string, (r: ServerResult) => string][] = [
    ['W1 highest accepted msg/s with p99 ≤ 50 ms', (r) => cell(r, best(r) === null ? 'none' : int(best(r)!.accepted), (x) => best(x)?.accepted ?? null)],
    ['W1 delivery p50 / p99 at that rate, ms', (r) => (best(r) === null ? '–' : `${ms(best(r)!.delivery.p50)} / ${ms(best(r)!.delivery.p99)}`)],
    ['W1 server CPU (cores) / RSS at that rate', (r) => (best(r) === null ? '–' : `${best(r)!.serverCpu.toFixed(2)} / ${mb(best(r)!.serverRss)}`)],
    ['W1 load generator CPU at that rate (cores)', (r) => (best(r) === null ? '–' : best(r)!.loadgenCpu.toFixed(2))],
    ['W1 step where the ramp stopped (offered → accepted, p99)', (r) => {
      const last = r.ramp.steps.at(-1);
      return last === undefined || last === r.ramp.best ? 'did not stop (ran out of steps)' : `${int(last.offered)} → ${int(last.accepted)}/s, ${ms(last.delivery.p99)} ms`;
    }],
    [`W2 at ${int(sizes.fixedRate)} msg/s: accepted msg/s`, (r) => cell(r, int(r.fixed.accepted), (x) => x.fixed.accepted)],
    ['W2 delivery p50 / p99 / p99.9, ms', (r) => `${ms(r.fixed.delivery.p50)} / ${ms(r.fixed.delivery.p99)} / ${ms(r.fixed.delivery.p999)}`],
    ['W2 ack p50 / p99, ms (sender → accepted)', (r) => `${ms(r.fixed.ack.p50)} / ${ms(r.fixed.ack.p99)}`],
    ['W2 deliveries lost (not seen within the drain time)', (r) => int(r.fixed.lost)],
    ['W2 server CPU (cores) / RSS', (r) => `${r.fixed.serverCpu.toFixed(2)} / ${mb(r.fixed.serverRss)}`],
    [`W3 RSS per idle connection (${int(sizes.idleDevices)} devices), KB`, (r) => cell(r, kbPerConn(r.idle).toFixed(1), (x) => kbPerConn(x.idle))],
    ['W3 server RSS before → after', (r) => `${mb(r.idle.rssBefore)} → ${mb(r.idle.rssAfter)}`],
    ['W3 time to connect and sync all, s', (r) => r.idle.connectSeconds.toFixed(1)],
    ['W5 messages stored / JSON bytes per message', (r) => `${int(r.docs.messages)} / ${jsonPerMessage(r).toFixed(0)} B`],
    ['W5 disk bytes per message (database files after a clean stop)', (r) => {
      const b = bytesPerMessage(r);
      return b === null ? 'no storage' : cell(r, `${b.toFixed(0)} B = ${(b / jsonPerMessage(r)).toFixed(2)}× JSON`, bytesPerMessage);
    }],
    ['W5 what is stored', (r) => r.disk?.detail ?? 'memory only'],
    ['W5 Yjs document size per message (encoded state / messages)', (r) => `${(r.docs.docBytes / Math.max(1, r.docs.messages)).toFixed(0)} B = ${(r.docs.docBytes / r.docs.jsonBytes).toFixed(2)}× JSON`],
    ['W5 conversation document size, mean / max', (r) => `${int(r.docs.docBytes / Math.max(1, r.docs.docs))} B / ${int(r.docs.maxDocBytes)} B`],
  ];

  const lines: string[] = [];
  lines.push(quick ? '# Parley bench — quick smoke run (not a measurement)' : '# Parley bench — results', '');
  lines.push(`Generated by \`npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\` on ${new Date().toISOString()} in ${seconds.toFixed(0)} s. Every figure below comes from this one run; ratios in parentheses are the peer's figure divided by Parley's.`, '');
  lines.push('## Figures', '');
  lines.push(`| | ${results.map((r) => SERVER_LABELS[r.kind]).join(' | ')} |`);
  lines.push(`| --- | ${results.map(() => '---').join(' | ')} |`);
  for (const [label, f] of rows) lines.push(`| ${label} | ${results.map(f).join(' | ')} |`);
  lines.push('', `![throughput against latency](${chartName})`, '');

  if (parley !== undefined) {
    const hp = results.find((r) => r.kind === 'hocuspocus');
    const yws = results.find((r) => r.kind === 'yws');
    const w1 = parley.ramp.best?.accepted ?? 0;
    const target = (name: string, ok: boolean | null, measured: string): string => `| ${name} | ${ok === null ? 'n/a' : ok ? 'met' : '**missed**'} | ${measured} |`;
    const pb = bytesPerMessage(parley);
    lines.push('## Targets', '', '| target | | measured |', '| --- | --- | --- |');
    lines.push(target('W1 ≥ 20,000 msg/s', w1 >= 20_000, `${int(w1)} msg/s`));
    lines.push(target('W1 ≥ 2× Hocuspocus', hp?.ramp.best ? w1 >= 2 * hp.ramp.best.accepted : null, hp?.ramp.best ? `${(w1 / hp.ramp.best.accepted).toFixed(2)}×` : '–'));
    lines.push(target('W1 ≥ 1× the bare server', yws?.ramp.best ? w1 >= yws.ramp.best.accepted : null, yws?.ramp.best ? `${(w1 / yws.ramp.best.accepted).toFixed(2)}×` : '–'));
    lines.push(target(`W2 p99 ≤ 10 ms at ${int(sizes.fixedRate)} msg/s`, parley.fixed.delivery.p99 <= 10 && parley.fixed.lost === 0, `p99 ${ms(parley.fixed.delivery.p99)} ms, accepted ${int(parley.fixed.accepted)} msg/s`));
    lines.push(target('W3 ≤ 20 KB per connection', kbPerConn(parley.idle) <= 20, `${kbPerConn(parley.idle).toFixed(1)} KB`));
    lines.push(target('W5 ≤ 1.5× the JSON', pb === null ? null : pb <= 1.5 * jsonPerMessage(parley), pb === null ? '–' : `${(pb / jsonPerMessage(parley)).toFixed(2)}×`));
    lines.push('');
  }

  lines.push('## W1 steps', '', '| server | offered msg/s | accepted msg/s | delivery p50 / p99 / max, ms | ack p50 / p99, ms | lost | server CPU (cores) | server RSS | load generator CPU (cores) |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    for (const s of r.ramp.steps) {
      lines.push(`| ${SERVER_LABELS[r.kind]} | ${int(s.offered)} | ${int(s.accepted)} | ${ms(s.delivery.p50)} / ${ms(s.delivery.p99)} / ${ms(s.delivery.max)} | ${ms(s.ack.p50)} / ${ms(s.ack.p99)} | ${int(s.lost)} | ${s.serverCpu.toFixed(2)} | ${mb(s.serverRss)} | ${s.loadgenCpu.toFixed(2)} |`);
    }
  }
  lines.push('');

  if (profile !== null) {
    lines.push('## Profile of Parley', '');
    lines.push(`\`node --cpu-prof\` on the server process (${profile.file}, not committed) while the load generator offered ${int(profile.rate)} msg/s for 6 s after a 1 s warm-up: accepted ${int(profile.step.accepted)} msg/s, delivery p99 ${ms(profile.step.delivery.p99)} ms, server CPU ${profile.step.serverCpu.toFixed(2)} cores. Only the samples inside the measured window count (start-up, connecting and the shutdown compaction are cut): busy ${int(profile.summary.busyMs)} ms of ${int(profile.summary.totalMs)} ms. Self time:`, '');
    lines.push('| by package or file | ms | share of busy |', '| --- | --- | --- |');
    for (const g of profile.summary.groups) lines.push(`| ${g.name} | ${int(g.ms)} | ${(g.share * 100).toFixed(1)}% |`);
    lines.push('', '| by function | ms | share of busy |', '| --- | --- | --- |');
    for (const f of profile.summary.functions) lines.push(`| \`${f.name.replace(/\|/g, '\\|')}\` | ${int(f.ms)} | ${(f.share * 100).toFixed(1)}% |`);
    lines.push('');
  }

  const analysis = join(REPO_ROOT, 'bench', 'ANALYSIS.md');
  if (!quick && existsSync(analysis)) lines.push(readFileSync(analysis, 'utf8').trim(), '');

  const cpu = cpus();
  lines.push('## Machine', '');
  lines.push(`- ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM, Linux ${release()}`);
  lines.push(`- Node ${process.version}; yjs ${version('yjs')}, ws ${version('ws')}, y-protocols ${version('y-protocols')}, better-sqlite3 ${version('better-sqlite3')}, @y/websocket-server ${version('@y/websocket-server')}, @hocuspocus/server ${version('@hocuspocus/server')}, @hocuspocus/extension-sqlite ${version('@hocuspocus/extension-sqlite')}, sqlite3 ${version('sqlite3')}`);
  lines.push('- Everything on 127.0.0.1; the servers and the load generator share the 2 cores.', '');

  lines.push('## Commands', '', '```sh', 'npm install', 'npm run bench            # this file, bench/chart.svg (< 10 min)', 'npm run bench -- --quick # smoke test: bench/RESULTS.quick.md (< 60 s)', 'npm run bench -- --only=parley   # one server (comma-separated kinds: parley,yws,hocuspocus)', 'npm run bench:cluster  # one process on PostgreSQL against three on PostgreSQL + Redis: the Cluster section (~8 min)', '```', '');
  lines.push('Each server is its own child process, on a fresh temp data dir, port 0:', '');
  lines.push('- Parley: its build, as `npm start` runs it (`npm run build:server`, then `node --conditions=parley-compiled sync-server/dist/main.js`), with `PARLEY_PORT=0 PARLEY_HOST=127.0.0.1 PARLEY_DATA_DIR=<tmp> PARLEY_LOG_LEVEL=warn NODE_ENV=production` (the profile run adds `--cpu-prof --cpu-prof-dir bench/profiles`)');
  lines.push('- bare: `node --import tsx bench/src/servers/ywebsocket.ts` (`setupWSConnection` of @y/websocket-server/utils, no persistence)');
  lines.push('- Hocuspocus: `node --import tsx bench/src/servers/hocuspocus.ts` (`new Server({extensions: [new SQLite({database})], onAuthenticate})`)');
  lines.push('- load generator: `node --import tsx bench/src/loadgen/main.ts`, forked by the harness, driven over IPC', '');

  lines.push('## Method', '');
  lines.push(`- Sizes: ${int(sizes.conversations)} conversations × 2 users × ${sizes.devicesPerUser} devices (${int(sizes.conversations * 2 * sizes.devicesPerUser)} sockets), each device its own WebSocket and Y.Doc on \`c2c/<a>/<b>/<this month>\`; W1 steps of ${sizes.warmupMs} ms warm-up + ${sizes.measureMs} ms measured at ${sizes.rampRates.map(int).join(', ')} msg/s, stopping at the first step whose delivery p99 passes ${sizes.p99LimitMs} ms or which loses more than 0.1% of deliveries; W2 ${sizes.fixedWarmupMs} ms + ${sizes.fixedMeasureMs} ms at ${int(sizes.fixedRate)} msg/s; W3 ${int(sizes.idleDevices)} idle devices (4 per conversation) on a fresh server.`);
  lines.push('- Writes: every message is `doc.getMap(\'messages\').set(id, {id, from, to, type: \'text\', body: [{type: \'text\', text}], ts, profile: {nickname}})`, the write Parley validates; the peers get the same writes into the same document names. Senders are open-loop (a schedule, not a request/response loop), round-robin over conversations and their four devices.');
  lines.push('- Delivery latency: from just before the sender\'s write to when each of the three other devices\' Y.Doc observes the key (the load generator holds all devices, so one clock). "Accepted" = Parley\'s `ack` control frame (sent after the group commit is durable), Hocuspocus\'s SyncStatus(true) (after the update is applied in memory; storage is debounced), and for the bare server the echo of the sender\'s own update (it has no acknowledgement). Accepted msg/s counts acks received inside the measured window.');
  lines.push('- Clients: a lean client (`ws` + y-protocols/sync encoding + one Y.Doc per device, no awareness), not WebsocketProvider, so one process holds 10,000 devices. It sends sync step 1 on open, answers the server\'s step 1 with step 2, sends each local update, applies the server\'s; for Parley it reads the control frames. For Hocuspocus it implements Hocuspocus\'s framing itself (document name before every frame, an Auth frame with the token first, SyncStatus acks) with one socket per device and document, like the others, rather than multiplexing documents over one HocuspocusProviderWebsocket — so all three servers see the same number of sockets.');
  lines.push('- Auth: each Parley device signs in with an app token minted with the server\'s `<dataDir>/app-secret` (`POST /api/v1/auth/app-token`: a real server-side session, no scrypt); the peers get JWTs (HS256, iss `parley`, `sub` user, `dev` device) minted with a key beside their data. Hocuspocus verifies its token in `onAuthenticate` and checks membership; the bare server checks nothing.');
  lines.push('- CPU and RSS of a server are read from `/proc/<pid>/stat` and `/proc/<pid>/status` at the start and end of the measured window; load generator CPU from `process.cpuUsage()`. With 2 cores shared by the server and the load generator, a load generator near 1.0 core means the client side, not the server, may be what limits a step.');
  lines.push('- W5: disk bytes are the database files after a clean stop (SIGTERM: Parley compacts and checkpoints; Hocuspocus stores each document when its last connection leaves), divided by the messages the devices hold; JSON bytes are `JSON.stringify` of each stored message. Parley\'s figure includes everything it stores for a message: the conversation document, both inbox documents, the message index.');
  return `${lines.join('\n')}\n`;
}

/**
 * Puts a workload's section (between its `<!-- Wn -->` and `<!-- /Wn -->` markers) into a RESULTS
 * file's text: in place of an earlier one, else before the W1 steps, else at the end.
 */
export function withSection(results: string, section: string, marker: string): string {
  const [startTag, endTag] = [`<!-- ${marker} -->`, `<!-- /${marker} -->`];
  const start = results.indexOf(startTag);
  const end = results.indexOf(endTag);
  if (start !== -1 && end > start) return `${results.slice(0, start)}${section}${results.slice(end + endTag.length)}`;
  const steps = results.indexOf('## W1 steps');
  if (steps !== -1) return `${results.slice(0, steps)}${section}\n\n${results.slice(steps)}`;
  return `${results.trimEnd()}\n\n${section}\n`;
}

/** `next` with the `marker` section of `previous` carried over (a workload run on its own, such as W8, survives a full run). */
export function carrySection(previous: string, next: string, marker: string): string {
  const [startTag, endTag] = [`<!-- ${marker} -->`, `<!-- /${marker} -->`];
  const start = previous.indexOf(startTag);
  const end = previous.indexOf(endTag);
  return start !== -1 && end > start ? withSection(next, previous.slice(start, end + endTag.length), marker) : next;
}
