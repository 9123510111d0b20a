/**
 * Cluster: one process against three — `npm run bench:cluster -- [--rate=200]
 * [--measure-ms=10000] [--conversations=200] [--rounds=3]`. The W1 workload
 * (conversations × 2 users × 2 devices, messages at a fixed offered rate, as
 * in W8) runs against
 *   (a) one Parley process on PostgreSQL (no Redis), and
 *   (b) three processes on PostgreSQL + Redis, each conversation's 4 devices
 *       spread over the 3 (loadgen Target.wsBases),
 * each on a fresh schema, key prefix and data dir, the compiled server as
 * `npm start` runs it, default settings (PARLEY_CLUSTER_SWEEP_MS 1000). The
 * rate is modest on purpose: this box has 2 cores, so what it can show is
 * what a message costs and how long it takes, not how many a cluster carries.
 *
 * CPU is read from /proc over the measured window, by component: the Parley
 * processes (every thread), this run's PostgreSQL backends (found by the
 * application_name the bench puts in the URL, and by the processes' lease
 * connections), PostgreSQL's shared background processes (WAL writer,
 * checkpointer, …) and redis-server. Other users of the same PostgreSQL and
 * Redis (other test runs) would show in the last two, so each component's
 * CPU with the devices connected and idle is measured first and subtracted:
 * "marginal" µs per message. Then, in (b), the process leading conversation
 * 0 (doc_leaders) is SIGKILLed under the load, and the time until a write to
 * that conversation is acknowledged again is the failover time.
 *
 * Writes its section into bench/RESULTS.md between the Cluster markers.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conversationPath, segmentOf } from '@parley/protocol';
import { Redis } from 'ioredis';
import pg from 'pg';
import { LoadGen } from './loadgen/client.ts';
import type { FailoverResult, StepResult } from './loadgen/jobs.ts';
import { withSection } from './report.ts';
import { freshDataDir, launchServer, type RunningServer } from './servers/launch.ts';
import { median } from './stats.ts';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const POSTGRES = process.env.PARLEY_TEST_DATABASE_URL || 'postgres://root@127.0.0.1:5432/test';
const REDIS = process.env.PARLEY_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
/** USER_HZ of /proc/<pid>/stat. */
const TICKS = 100;

interface Sizes {
  conversations: number;
  rate: number;
  idleMs: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  /** Load before the kill, and the longest the bench waits for the conversation to take writes again. */
  failoverBeforeMs: number;
  failoverTimeoutMs: number;
}

const COMPONENTS = ['parley', 'postgres', 'postgresShared', 'redis'] as const;
type Component = (typeof COMPONENTS)[number];
const COMPONENT_LABELS: Record<Component, string> = {
  parley: 'Parley processes (every thread)',
  postgres: "PostgreSQL: this run's backends",
  postgresShared: 'PostgreSQL: shared background (WAL writer, checkpointer, …)',
  redis: 'redis-server',
};

interface SetupRun {
  label: 'one' | 'three';
  step: StepResult;
  /** Cores each component used with the devices connected and idle, and under the load. */
  idle: Record<Component, number>;
  loaded: Record<Component, number>;
  failover: Failover | null;
}

/** Refusals by code, as `code n, …`, or `none`. */
const codes = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || 'none';

const log = (line: string): void => {
  process.stderr.write(`[cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** One read of every process's CPU seconds so far, Date.now() when read. */
interface CpuSample {
  at: number;
  cpu: Map<number, number>;
}

function cpuOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null; // gone
  }
}

/** PostgreSQL's processes (their titles start `postgres:`) and redis-server's, found afresh each time: backends come and go. */
function servicePids(): { postgres: number[]; redis: number[] } {
  const postgres: number[] = [];
  const redis: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.startsWith('postgres:')) postgres.push(Number(entry));
    else if (cmdline.startsWith('redis-server')) redis.push(Number(entry));
  }
  return { postgres, redis };
}

/**
 * Reads the CPU of the Parley processes, PostgreSQL's and Redis's every
 * 100 ms until stopped, so that windows known only afterwards (the loadgen's
 * measured window) can be cut out of the samples.
 */
class CpuSampler {
  private readonly samples: CpuSample[] = [];
  private readonly timer: NodeJS.Timeout;
  readonly redisPids = new Set<number>();

  constructor(private readonly parleyPids: readonly number[]) {
    this.timer = setInterval(() => this.sample(), 100);
    this.sample();
  }

  private sample(): void {
    const { postgres, redis } = servicePids();
    for (const pid of redis) this.redisPids.add(pid);
    const cpu = new Map<number, number>();
    for (const pid of [...this.parleyPids, ...postgres, ...redis]) {
      const seconds = cpuOf(pid);
      if (seconds !== null) cpu.set(pid, seconds);
    }
    this.samples.push({ at: Date.now(), cpu });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Cores used by the processes `pick` selects between the samples nearest `from` and `to` (a process new meanwhile counts from 0). */
  cores(from: number, to: number, pick: (pid: number) => boolean): number {
    const nearest = (t: number): CpuSample =>
      this.samples.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best), this.samples[0]!);
    const first = nearest(from);
    const last = nearest(to);
    if (last.at <= first.at) return 0;
    let seconds = 0;
    for (const [pid, cpu] of last.cpu) if (pick(pid)) seconds += cpu - (first.cpu.get(pid) ?? 0);
    return seconds / ((last.at - first.at) / 1000);
  }
}

/** This run's PostgreSQL backends (its pool's, by application_name, and its lease connections') and the shared background processes. */
async function postgresRoles(appName: string, nodes: readonly string[]): Promise<{ ours: Set<number>; shared: Set<number> }> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; backend_type: string; application_name: string }>('SELECT pid, backend_type, application_name FROM pg_stat_activity');
    const leases = new Set(nodes.map((n) => `parley-leases-${n}`));
    const ours = new Set(rows.filter((r) => r.application_name === appName || leases.has(r.application_name)).map((r) => r.pid));
    // The postmaster itself is not in pg_stat_activity, nor is its title `postgres:`: it forks, and costs nothing per message.
    const shared = new Set(rows.filter((r) => r.backend_type !== 'client backend').map((r) => r.pid));
    return { ours, shared };
  } finally {
    await client.end();
  }
}

/** `url` with this run's schema as search_path and a name its backends can be found by. */
function runUrl(schema: string, appName: string): string {
  const parsed = new URL(POSTGRES);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  parsed.searchParams.set('application_name', appName);
  return parsed.toString();
}

async function sql(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the workload on `size` processes (1: PostgreSQL alone; more: PostgreSQL + Redis), then, on a cluster, the failover. */
async function runSetup(size: number, sizes: Sizes, loadgen: LoadGen): Promise<SetupRun> {
  const label = size === 1 ? 'one' : 'three';
  const id = randomBytes(6).toString('hex');
  const schema = `bench_${id}`;
  const appName = `parley-bench-${id}`;
  const prefix = `bench-${id}:`;
  const dataDir = freshDataDir('cluster');
  const env: Record<string, string> = { PARLEY_DATABASE_URL: runUrl(schema, appName), PARLEY_LOG_LEVEL: 'info' };
  if (size > 1) Object.assign(env, { PARLEY_REDIS_URL: REDIS, PARLEY_REDIS_PREFIX: prefix });
  await sql(`CREATE SCHEMA ${schema}`);
  const nodes: string[] = [];
  const servers: RunningServer[] = [];
  /** What the processes logged at warn or above, by message: how often, and the first line. */
  const warnings = new Map<string, { n: number; example: string }>();
  const launch = async (): Promise<void> => {
    let node: string | null = null;
    const index = servers.length;
    const server = await launchServer('parley', {
      dataDir,
      env,
      onEvent: (event) => {
        if (event.event === 'cluster-joined' && typeof event.node === 'string') node = event.node;
        // Warnings and errors, and every document dropped (an info line): by message and code.
        const dropped = typeof event.code === 'string' && String(event.msg).startsWith('document dropped');
        if ((typeof event.level === 'number' && event.level >= 40) || dropped) {
          const key = dropped ? `${String(event.msg)} (${String(event.code)})` : String(event.msg);
          const { stack: _stack, ...err } = (event.err ?? {}) as Record<string, unknown>;
          const seen = warnings.get(key) ?? { n: 0, example: JSON.stringify({ ...event, err, process: index + 1 }).slice(0, 800) };
          seen.n++;
          warnings.set(key, seen);
        }
      },
    });
    servers.push(server);
    nodes[servers.length - 1] = node ?? '';
  };
  try {
    // The first alone: it makes the schema and the data dir's secrets, which the others then read.
    await launch();
    for (let i = 1; i < size; i++) await launch();
    const bases = servers.map((s) => s.wsBase);
    const target = { kind: 'parley' as const, wsBase: bases[0]!, wsBases: size > 1 ? bases : undefined, pid: servers[0]!.pid, dataDir };
    await loadgen.run({ type: 'connect', target, conversations: sizes.conversations, devicesPerUser: 2, concurrency: 50 });
    const parleyPids = new Set(servers.map((s) => s.pid));
    const sampler = new CpuSampler([...parleyPids]);
    let step: StepResult;
    let roles: { ours: Set<number>; shared: Set<number> };
    const idleFrom = Date.now();
    try {
      // The floor: every component's CPU with the devices connected and nothing sent (heartbeats, sweeps, other users).
      await sleep(sizes.idleMs);
      const idleTo = Date.now();
      step = (await loadgen.run({ type: 'fixed', rate: sizes.rate, warmupMs: sizes.warmupMs, measureMs: sizes.measureMs, drainMs: sizes.drainMs })).result;
      roles = await postgresRoles(appName, nodes);
      const picks: Record<Component, (pid: number) => boolean> = {
        parley: (pid) => parleyPids.has(pid),
        postgres: (pid) => roles.ours.has(pid),
        postgresShared: (pid) => roles.shared.has(pid),
        redis: (pid) => sampler.redisPids.has(pid),
      };
      const over = (from: number, to: number): Record<Component, number> =>
        Object.fromEntries(COMPONENTS.map((c) => [c, sampler.cores(from, to, picks[c])])) as Record<Component, number>;
      const idle = over(idleFrom, idleTo);
      const loaded = over(step.windowStart, step.windowEnd);
      log(
        `${label}: accepted ${step.accepted.toFixed(0)}/s, delivery p50 ${step.delivery.p50.toFixed(1)} / p99 ${step.delivery.p99.toFixed(1)} ms, lost ${step.lost}, ${step.dropped} sockets closed by a server, refused ${codes(step.rejected)}; ` +
          COMPONENTS.map((c) => `${c} ${((loaded[c] * 1e6) / step.accepted).toFixed(0)} µs/msg (idle ${(idle[c] * 100).toFixed(1)} %)`).join(', '),
      );
      if (step.lost > 0) await explainLost(schema, nodes, loadgen);
      let failover: Failover | null = null;
      if (size > 1) failover = await killLeader(servers, nodes, schema, sizes, loadgen);
      await loadgen.run({ type: 'disconnect' });
      return { label, step, idle, loaded, failover };
    } finally {
      sampler.stop();
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop(20_000)));
    for (const [msg, { n, example }] of warnings) log(`  ${label}: logged ${n}×: ${msg} (first: ${example})`);
    rmSync(dataDir, { recursive: true, force: true });
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    if (size > 1) await removeKeys(prefix);
  }
}

/**
 * Names each delivery the step gave up on: message, conversation and its
 * leader, sender and receiver (device, process), whether the sender had its
 * ack (the message is stored), and whether it came later (waiting up to 10 s
 * more) or not at all.
 */
async function explainLost(schema: string, nodes: readonly string[], loadgen: LoadGen): Promise<void> {
  const late = (await loadgen.run({ type: 'late', waitMs: 10_000 })).result;
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    const segment = segmentOf(Date.now());
    for (const l of late) {
      const path = conversationPath(`u${l.conversation}a`, `u${l.conversation}b`, segment);
      const leader = (await client.query<{ node: string }>(`SELECT node FROM ${schema}.doc_leaders WHERE doc = $1`, [path])).rows[0]?.node;
      log(
        `  not seen within the drain: ${l.id} in conversation ${l.conversation} (led by process ${leader === undefined ? '?' : nodes.indexOf(leader) + 1}), ` +
          `from device ${l.sender.index} on process ${l.sender.server + 1} to device ${l.device.index} on process ${l.device.server + 1} ` +
          `(${l.device.connected ? 'connected' : 'not connected'}; ${l.acked ? 'acknowledged' : 'never acknowledged'}): ` +
          (l.arrivedMs === null ? 'not within 10 s more' : `arrived ${l.arrivedMs.toFixed(0)} ms after it was sent`),
      );
    }
  } finally {
    await client.end();
  }
}

/** SIGKILLs the leader of conversation 0 (doc_leaders.node → the process that logged that node) under the load; the failover result. */
/** A failover as the loadgen saw it, and when (ms after the kill) doc_leaders named the new leader. */
type Failover = FailoverResult & { takeoverMs: number | null };

async function killLeader(servers: readonly RunningServer[], nodes: readonly string[], schema: string, sizes: Sizes, loadgen: LoadGen): Promise<Failover> {
  const path = conversationPath('u0a', 'u0b', segmentOf(Date.now()));
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  let leader: string | undefined;
  try {
    leader = (await client.query<{ node: string }>(`SELECT node FROM ${schema}.doc_leaders WHERE doc = $1`, [path])).rows[0]?.node;
  } finally {
    await client.end();
  }
  const index = leader === undefined ? -1 : nodes.indexOf(leader);
  if (index === -1) throw new Error(`no process of this run leads ${path} (leader ${leader ?? 'none'}, nodes ${nodes.join(', ')})`);
  // Meanwhile, when doc_leaders names another process: the takeover itself, apart from the clients' reconnecting.
  const watcher = new pg.Client({ connectionString: POSTGRES });
  await watcher.connect();
  let movedAt: number | null = null;
  let running = true;
  const watch = (async () => {
    while (running && movedAt === null) {
      const node = (await watcher.query<{ node: string }>(`SELECT node FROM ${schema}.doc_leaders WHERE doc = $1`, [path])).rows[0]?.node;
      if (node !== undefined && node !== leader) movedAt = Date.now();
      else await sleep(20);
    }
  })();
  let result: FailoverResult;
  try {
    result = (
      await loadgen.run({ type: 'failover', conversation: 0, server: index, pid: servers[index]!.pid, rate: sizes.rate, beforeMs: sizes.failoverBeforeMs, timeoutMs: sizes.failoverTimeoutMs })
    ).result;
  } finally {
    running = false;
    await watch;
    await watcher.end();
  }
  const takeoverMs = movedAt === null ? null : movedAt - result.killedAt;
  log(
    `three: killed process ${index + 1} (leader of ${path}): lease moved after ${takeoverMs?.toFixed(0) ?? 'never'} ms, writes acknowledged again after ${result.recoveredMs?.toFixed(0) ?? 'never'} ms; ${result.reconnected}/${result.dropped} sockets back, writes refused ${codes(result.rejected)}`,
  );
  return { ...result, takeoverMs };
}

async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS);
  try {
    const found = await redis.keys(`${prefix}*`);
    if (found.length > 0) await redis.del(...found);
  } finally {
    redis.disconnect();
  }
}

function render(runs: readonly SetupRun[], sizes: Sizes, args: readonly string[], load: [number, number], cpuModel: string): string {
  const of = (label: 'one' | 'three'): SetupRun[] => runs.filter((r) => r.label === label);
  const cell = (label: 'one' | 'three', f: (r: SetupRun) => number | null, digits = 0): string => {
    const values = of(label)
      .map(f)
      .filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length === 0 ? '–' : median(values).toFixed(digits);
  };
  const row = (name: string, f: (r: SetupRun) => number | null, digits = 0): string => `| ${name} | ${cell('one', f, digits)} | ${cell('three', f, digits)} |`;
  const perMessage = (cores: number, r: SetupRun): number => (cores * 1e6) / r.step.accepted;
  const marginal = (c: Component) => (r: SetupRun) => perMessage(r.loaded[c] - r.idle[c], r);
  const whole = (c: Component) => (r: SetupRun) => perMessage(r.loaded[c], r);
  const total = (f: (c: Component) => (r: SetupRun) => number, cs: readonly Component[]) => (r: SetupRun) => cs.reduce((sum, c) => sum + f(c)(r), 0);
  const failovers = of('three')
    .map((r) => r.failover)
    .filter((f): f is Failover => f !== null);
  const rounds = of('one').length;
  // A failover that never recovered within the timeout counts as longer than any that did.
  const medianRecovery = median(failovers.map((f) => f.recoveredMs ?? Number.POSITIVE_INFINITY));
  const recovery = failovers.length === 0 ? '–' : Number.isFinite(medianRecovery) ? `${medianRecovery.toFixed(0)} ms` : `over the ${sizes.failoverTimeoutMs / 1000} s timeout`;
  return [
    '<!-- Cluster -->',
    '## Cluster: one process against three',
    '',
    `\`npm run bench:cluster -- ${args.join(' ')}\`, ${new Date().toISOString()}: the W1 workload (${sizes.conversations} conversations × 2 users × 2 devices, the compiled server with default settings, PARLEY_CLUSTER_SWEEP_MS 1000) offered ${sizes.rate} msg/s for ${sizes.measureMs / 1000} s after ${sizes.warmupMs / 1000} s of warm-up, against (a) one Parley process on PostgreSQL, no Redis, and (b) three processes on PostgreSQL + Redis, device k of conversation i on process (i + k) mod 3 (so each sender's 3 peers sit on its own process for 1 in 3 deliveries and on the other two for the rest). ${rounds} round(s) of each, fresh schema, key prefix and data dir each time, medians shown. CPU from /proc over the measured window: the Parley processes (every thread), this run's PostgreSQL backends (application_name, lease connections), PostgreSQL's shared background processes, redis-server; "marginal" subtracts each component's CPU over ${sizes.idleMs / 1000} s with the devices connected and idle just before (heartbeats, sweeps, and other users of the same PostgreSQL and Redis). The machine: 2 cores (${cpuModel}); its 1-minute load average was ${load[0].toFixed(1)} at the start and ${load[1].toFixed(1)} at the end. The offered rate is modest so that on an idle 2-core box neither setup saturates it: this box shows cost and latency, not a cluster's throughput (bench/ANALYSIS.md has the paper estimate). A marginal figure below zero means the component's idle floor (other users of the shared PostgreSQL or Redis) was higher than its CPU under this run's load: read it as zero within that noise.`,
    '',
    '| µs of CPU per accepted message (marginal) | (a) 1 process, PostgreSQL | (b) 3 processes, PostgreSQL + Redis |',
    '| --- | ---: | ---: |',
    ...COMPONENTS.map((c) => row(COMPONENT_LABELS[c], marginal(c))),
    row('**all components**', total(marginal, COMPONENTS)),
    row('all components, idle floor not subtracted', total(whole, COMPONENTS)),
    row('idle floor: Parley processes, % of a core', (r) => r.idle.parley * 100, 1),
    row('idle floor: PostgreSQL + Redis, % of a core', (r) => (r.idle.postgres + r.idle.postgresShared + r.idle.redis) * 100, 1),
    row('accepted msg/s', (r) => r.step.accepted),
    row('deliveries not seen within the drain', (r) => r.step.lost),
    row('sockets closed by a server (left closed)', (r) => r.step.dropped),
    row('writes refused (any code)', (r) => Object.values(r.step.rejected).reduce((sum, n) => sum + n, 0)),
    '',
    '| ms, send → each other device has it | (a) p50 | (a) p99 | (b) p50 | (b) p99 |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| every delivery | ${cell('one', (r) => r.step.delivery.p50, 1)} | ${cell('one', (r) => r.step.delivery.p99, 1)} | ${cell('three', (r) => r.step.delivery.p50, 1)} | ${cell('three', (r) => r.step.delivery.p99, 1)} |`,
    `| to a device on the sender's process | – | – | ${cell('three', (r) => r.step.split?.same.p50 ?? null, 1)} | ${cell('three', (r) => r.step.split?.same.p99 ?? null, 1)} |`,
    `| to a device on another process | – | – | ${cell('three', (r) => r.step.split?.cross.p50 ?? null, 1)} | ${cell('three', (r) => r.step.split?.cross.p99 ?? null, 1)} |`,
    `| send → the sender's ack | ${cell('one', (r) => r.step.ack.p50, 1)} | ${cell('one', (r) => r.step.ack.p99, 1)} | ${cell('three', (r) => r.step.ack.p50, 1)} | ${cell('three', (r) => r.step.ack.p99, 1)} |`,
    '',
    `Failover, (b): under the same load, the process leading conversation 0 (doc_leaders) is SIGKILLed; a device of that conversation on a surviving process writes every 10 ms, and doc_leaders named its new leader ${failovers.map((f) => (f.takeoverMs === null ? 'never' : `${f.takeoverMs.toFixed(0)} ms`)).join(', ')} after the kill, and the time from the kill to the first acknowledgement of a write sent after it is: ${failovers.map((f) => (f.recoveredMs === null ? 'none within the timeout' : `${f.recoveredMs.toFixed(0)} ms`)).join(', ')} (median ${recovery}) with the default 1,000 ms sweep; the dropped sockets (the dead process's, and the followers' closed \`doc-moved\`) connected again to a surviving process: ${failovers.map((f) => `${f.reconnected}/${f.dropped}`).join(', ')}; writes refused meanwhile, by code: ${failovers.map((f) => codes(f.rejected)).join('; ')}.`,
    '<!-- /Cluster -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const sizes: Sizes = {
    conversations: Number(value('conversations') ?? 200),
    rate: Number(value('rate') ?? 200),
    idleMs: 3000,
    warmupMs: 2000,
    measureMs: Number(value('measure-ms') ?? 10_000),
    drainMs: 3000,
    failoverBeforeMs: 2000,
    failoverTimeoutMs: 20_000,
  };
  const rounds = Number(value('rounds') ?? 3);
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  const load: [number, number] = [loadavg()[0] ?? 0, 0];
  const loadgen = new LoadGen();
  const runs: SetupRun[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      for (const size of r % 2 === 0 ? [1, 3] : [3, 1]) runs.push(await runSetup(size, sizes, loadgen));
    }
  } finally {
    await loadgen.close();
  }
  load[1] = loadavg()[0] ?? 0;
  const file = join(BENCH_DIR, 'RESULTS.md');
  writeFileSync(file, withSection(readFileSync(file, 'utf8'), render(runs, sizes, args, load, cpuModel), 'Cluster'));
  log(`done: bench/RESULTS.md (load ${load[0].toFixed(1)} → ${load[1].toFixed(1)})`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
