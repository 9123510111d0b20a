/**
 * The devices of one workload and the measurements over them. Conversation i
 * is between users `u<i>a` and `u<i>b`, each with `devicesPerUser` devices,
 * all on the document `c2c/u<i>a/u<i>b/<this month>`. Senders are open-loop:
 * messages go out on a schedule whatever the server answers, so a slow server
 * shows as latency rather than as a politely lower rate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Message, conversationPath, segmentOf, segmentRange } from '@parley/protocol';
import * as Y from 'yjs';
import { Device, type DeviceHooks } from '../client/device.ts';
import { cpuCores, sampleProc } from '../proc.ts';
import { Samples, summarize } from '../stats.ts';
import { mintAccessToken, parleySession, readJwtSecret } from '../tokens.ts';
import type { ConnectResult, DocStats, FailoverResult, IdleResult, LostDelivery, RampResult, StepResult, Target } from './jobs.ts';

interface Pending {
  t0: number;
  sender: Device;
  /** The devices it is still expected on (every device of the conversation but the sender). */
  waiting: Set<Device>;
  conversation: Conversation;
  acked: boolean;
  step: number;
  measured: boolean;
}

interface LateWatch {
  device: Device;
  t0: number;
  detail: LostDelivery;
}

interface Conversation {
  path: string;
  a: string;
  b: string;
  devices: Device[];
}

const TEXTS = ['on my way, see you at the station in ten minutes', 'ok', 'did you get the tickets for saturday?', 'haha yes 😂', 'call me when you land'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes; says which. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}

export class Fleet {
  readonly conversations: Conversation[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Deliveries a step gave up on, still watched for: whether they come late or never (LostDelivery.arrivedMs). */
  private readonly late = new Map<string, LateWatch[]>();
  private counter = 0;
  private step = 0;
  private delivery = new Samples();
  /** On a cluster: deliveries to a device on the sender's process, and on another. */
  private same = new Samples();
  private cross = new Samples();
  private ack = new Samples();
  /** Which of `bases` each device is connected to. */
  private readonly serverOf = new Map<Device, number>();
  private readonly bases: readonly string[];
  /** During a failover, the killed process: sockets dropped then connect again to another one, as through a proxy. */
  private dead: number | null = null;
  private dropped = 0;
  private reconnected = 0;
  /** During a failover, the writes sent after the kill, and when the first of them was acknowledged. */
  private probe: { ids: Set<string>; ackedAt: number | null } | null = null;
  private measuring = false;
  private acceptedInWindow = 0;
  private rejected = 0;
  /** Refusals by code since the step or failover began. */
  private refusals = new Map<string, number>();
  private readonly segment = segmentOf(Date.now());
  private readonly segmentEnd = segmentRange(this.segment)[1];
  private readonly hooks: DeviceHooks = {
    onKey: (device, key) => this.onKey(device, key),
    onAccepted: (_device, ids) => this.onAccepted(ids),
    onReject: (_device, frame) => {
      this.rejected++;
      this.refusals.set(frame.code, (this.refusals.get(frame.code) ?? 0) + 1);
    },
    onDropped: (device) => this.onDropped(device),
  };

  constructor(readonly target: Target) {
    this.bases = target.wsBases ?? [target.wsBase];
  }

  async connect(conversations: number, devicesPerUser: number, concurrency: number): Promise<ConnectResult> {
    const { target } = this;
    const key = target.kind === 'parley' ? null : readJwtSecret(target.dataDir);
    // Parley opens a conversation only with users that exist: their accounts first, outside the timing.
    if (target.kind === 'parley') await importAccounts(target, Array.from({ length: conversations }, (_, i) => [`u${i}a`, `u${i}b`]).flat());
    const started = performance.now();
    const all: { device: Device; user: string; name: string }[] = [];
    for (let i = 0; i < conversations; i++) {
      const a = `u${i}a`;
      const b = `u${i}b`;
      const path = conversationPath(a, b, this.segment);
      const devices: Device[] = [];
      for (const user of [a, b]) {
        for (let d = 0; d < devicesPerUser; d++) {
          const device = new Device(target.kind, path, user, devices.length, this.hooks);
          this.serverOf.set(device, (i + devices.length) % this.bases.length);
          devices.push(device);
          all.push({ device, user, name: `d${d}` });
        }
      }
      this.conversations.push({ path, a, b, devices });
    }
    await pool(all, concurrency, async ({ device, user, name }) => {
      const base = this.bases[this.serverOf.get(device) ?? 0]!;
      const token = key === null ? await parleySession(target.dataDir, base, user, name) : await mintAccessToken(key, user, name);
      // A cluster may refuse a socket `doc-moved` while the document's lease settles (a fresh cluster, a takeover): the app
      // connects again, and so does this, a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          return await device.connect(base, token);
        } catch (error) {
          if (attempt === 5 || !String(error).includes('doc-moved')) throw error;
          await sleep(100 * attempt);
        }
      }
    });
    return { devices: all.length, seconds: (performance.now() - started) / 1000 };
  }

  private onKey(device: Device, key: string): void {
    const p = this.pending.get(key);
    const late = this.late.get(key);
    if (late !== undefined) {
      const entry = late.find((l) => l.device === device && l.detail.arrivedMs === null);
      if (entry !== undefined) entry.detail.arrivedMs = performance.now() - entry.t0;
    }
    if (p === undefined || device === p.sender || !p.waiting.has(device)) return;
    if (p.measured) {
      const ms = performance.now() - p.t0;
      this.delivery.add(ms);
      (this.serverOf.get(device) === this.serverOf.get(p.sender) ? this.same : this.cross).add(ms);
    }
    p.waiting.delete(device);
    if (p.waiting.size === 0 && p.acked) this.pending.delete(key);
  }

  private onAccepted(ids: readonly string[]): void {
    const now = performance.now();
    for (const id of ids) {
      if (this.measuring) this.acceptedInWindow++;
      if (this.probe?.ids.has(id) === true) this.probe.ackedAt ??= now;
      const p = this.pending.get(id);
      if (p === undefined) continue;
      if (p.measured) this.ack.add(now - p.t0);
      p.acked = true;
      if (p.waiting.size === 0) this.pending.delete(id);
    }
  }

  private send(measured: boolean): void {
    const n = this.counter;
    const conversation = this.conversations[n % this.conversations.length]!;
    this.write(conversation, conversation.devices[Math.floor(n / this.conversations.length) % conversation.devices.length]!, measured);
  }

  /** Writes the next message from `sender` in `conversation`; its id. */
  private write(conversation: Conversation, sender: Device, measured: boolean): string {
    const n = this.counter++;
    const to = sender.user === conversation.a ? conversation.b : conversation.a;
    const id = `m${n.toString(36)}`;
    const message: Message = {
      id,
      from: sender.user,
      to,
      type: 'text',
      body: [{ type: 'text', text: `${TEXTS[n % TEXTS.length]!} #${n}` }],
      ts: Math.min(Date.now(), this.segmentEnd),
      profile: { nickname: `User ${sender.user}` },
    };
    this.pending.set(id, { t0: performance.now(), sender, waiting: new Set(conversation.devices.filter((d) => d !== sender)), conversation, acked: false, step: this.step, measured });
    sender.write(message);
    return id;
  }

  /** Sends at `rate` messages/s for `ms`, open loop. */
  private async sendFor(rate: number, ms: number, measured: boolean, stop: () => boolean = () => false): Promise<void> {
    const start = performance.now();
    let sent = 0;
    for (;;) {
      const elapsed = performance.now() - start;
      if (elapsed >= ms || stop()) break;
      const due = Math.floor((rate * elapsed) / 1000) - sent;
      for (let i = 0; i < due; i++) this.send(measured);
      sent += Math.max(0, due);
      await sleep(1);
    }
  }

  /** One step: warm up, measure, then wait for the stragglers (at most `drainMs`). */
  async runStep(rate: number, warmupMs: number, measureMs: number, drainMs: number): Promise<StepResult> {
    this.step++;
    const step = this.step;
    this.refusals = new Map();
    const droppedBefore = this.dropped;
    this.delivery = new Samples();
    this.same = new Samples();
    this.cross = new Samples();
    this.ack = new Samples();
    await this.sendFor(rate, warmupMs, false);
    const windowStart = Date.now();
    const serverBefore = sampleProc(this.target.pid);
    const cpuBefore = process.cpuUsage();
    this.acceptedInWindow = 0;
    this.measuring = true;
    await this.sendFor(rate, measureMs, true);
    this.measuring = false;
    const serverAfter = sampleProc(this.target.pid);
    const windowEnd = Date.now();
    const cpu = process.cpuUsage(cpuBefore);
    const windowSeconds = (serverAfter.at - serverBefore.at) / 1000;
    const accepted = this.acceptedInWindow / windowSeconds;
    const open = (): boolean => {
      for (const p of this.pending.values()) if (p.step === step) return true;
      return false;
    };
    await until(() => !open(), drainMs);
    let lost = 0;
    for (const [id, p] of this.pending) {
      if (p.step !== step) continue;
      if (p.measured) {
        lost += p.waiting.size;
        const watch: LateWatch[] = [];
        for (const device of p.waiting) {
          const detail: LostDelivery = {
            id,
            conversation: this.conversations.indexOf(p.conversation),
            sender: { index: p.sender.index, server: this.serverOf.get(p.sender) ?? 0 },
            device: { index: device.index, server: this.serverOf.get(device) ?? 0, connected: device.connected },
            acked: p.acked,
            arrivedMs: null,
          };
          watch.push({ device, t0: p.t0, detail });
        }
        this.late.set(id, watch);
      }
      this.pending.delete(id);
    }
    return {
      offered: rate,
      accepted,
      delivery: summarize(this.delivery),
      ack: summarize(this.ack),
      split: this.bases.length > 1 ? { same: summarize(this.same), cross: summarize(this.cross) } : null,
      lost,
      rejected: Object.fromEntries(this.refusals),
      dropped: this.dropped - droppedBefore,
      serverCpu: cpuCores(serverBefore, serverAfter),
      serverRss: serverAfter.rss,
      loadgenCpu: (cpu.user + cpu.system) / 1e6 / windowSeconds,
      windowStart,
      windowEnd,
    };
  }

  async ramp(rates: readonly number[], warmupMs: number, measureMs: number, drainMs: number, p99LimitMs: number): Promise<RampResult> {
    const steps: StepResult[] = [];
    let best: StepResult | null = null;
    for (const rate of rates) {
      const result = await this.runStep(rate, warmupMs, measureMs, drainMs);
      steps.push(result);
      const expected = result.delivery.count + result.lost;
      const ok = result.delivery.p99 <= p99LimitMs && result.lost <= expected * 0.001;
      if (!ok) break;
      if (best === null || result.accepted > best.accepted) best = result;
    }
    return { steps, best };
  }

  /**
   * Under the load at `rate`, SIGKILLs process `server` (pid `pid`) after
   * `beforeMs`, then writes to `conversation` every 10 ms from one of its
   * devices on a surviving process until a write sent after the kill is
   * acknowledged: the time from the kill to that ack is how long the
   * conversation took no writes. Dropped sockets connect again meanwhile, the
   * dead process's to the next one (what a proxy does), the others' (closed
   * `doc-moved` by the takeover) to the same one; each sends on sync what was
   * never acknowledged, as the app does.
   */
  async failover(conversation: number, server: number, pid: number, rate: number, beforeMs: number, timeoutMs: number): Promise<FailoverResult> {
    const c = this.conversations[conversation];
    const writer = c?.devices.find((d) => this.serverOf.get(d) !== server);
    if (c === undefined || writer === undefined) throw new Error(`conversation ${conversation} has no device off process ${server}`);
    this.dead = server;
    this.refusals = new Map();
    this.dropped = 0;
    this.reconnected = 0;
    const probe: { ids: Set<string>; ackedAt: number | null } = { ids: new Set(), ackedAt: null };
    this.probe = probe;
    let done = false;
    const load = this.sendFor(rate, beforeMs + timeoutMs, false, () => done);
    await sleep(beforeMs);
    process.kill(pid, 'SIGKILL');
    const killedAt = performance.now();
    const killedAtWall = Date.now();
    while (probe.ackedAt === null && performance.now() - killedAt < timeoutMs) {
      probe.ids.add(this.write(c, writer, false));
      await sleep(10);
    }
    done = true;
    await load;
    await until(() => this.reconnected >= this.dropped, 10_000);
    this.probe = null;
    this.dead = null;
    return { recoveredMs: probe.ackedAt === null ? null : probe.ackedAt - killedAt, probes: probe.ids.size, dropped: this.dropped, reconnected: this.reconnected, rejected: Object.fromEntries(this.refusals), killedAt: killedAtWall };
  }

  private onDropped(device: Device): void {
    this.dropped++;
    if (this.dead === null) return;
    void this.reconnect(device);
  }

  /** Connects a dropped device again, to another process if its own is the dead one; tries for 30 s. */
  private async reconnect(device: Device): Promise<void> {
    let server = this.serverOf.get(device) ?? 0;
    if (server === this.dead) server = (server + 1) % this.bases.length;
    this.serverOf.set(device, server);
    const end = performance.now() + 30_000;
    while (performance.now() < end) {
      try {
        await device.connect(this.bases[server]!, device.token);
        this.reconnected++;
        return;
      } catch {
        await sleep(50);
      }
    }
  }

  docStats(): DocStats {
    const ids = new Set<string>();
    let jsonBytes = 0;
    let docBytes = 0;
    let maxDocBytes = 0;
    for (const c of this.conversations) {
      const doc = c.devices[0]!.doc;
      const size = encodedSize(doc);
      docBytes += size;
      maxDocBytes = Math.max(maxDocBytes, size);
      doc.getMap<Message>('messages').forEach((value, id) => {
        if (ids.has(id)) return;
        ids.add(id);
        jsonBytes += Buffer.byteLength(JSON.stringify(value));
      });
    }
    return { messages: ids.size, jsonBytes, docs: this.conversations.length, docBytes, maxDocBytes };
  }

  /** Every delivery the steps gave up on (the `late` job), once each has come or `waitMs` passed; forgets them. */
  async lateDeliveries(waitMs: number): Promise<LostDelivery[]> {
    const all = [...this.late.values()].flat();
    await until(() => all.every((l) => l.detail.arrivedMs !== null), waitMs);
    this.late.clear();
    return all.map((l) => ({ ...l.detail, device: { ...l.detail.device, connected: l.device.connected } }));
  }

  rejections(): number {
    return this.rejected;
  }

  async disconnect(): Promise<void> {
    const devices = this.conversations.flatMap((c) => c.devices);
    await pool(devices, 500, (d) => d.close());
    for (const d of devices) d.destroy();
    this.conversations.length = 0;
    this.pending.clear();
    this.late.clear();
  }
}


function encodedSize(doc: Y.Doc): number {
  return Y.encodeStateAsUpdate(doc).byteLength;
}

/** Creates the users' accounts on a Parley server through the admin API (100 per call, its limit); existing ones are kept. */
async function importAccounts(target: Target, users: readonly string[]): Promise<void> {
  const adminKey = readFileSync(join(target.dataDir, 'admin-key'), 'utf8').trim();
  const http = new URL(target.wsBase);
  const url = `http://${http.host}/api/v1/admin/accounts`;
  for (let i = 0; i < users.length; i += 100) {
    const accounts = users.slice(i, i + 100).map((id) => ({ id }));
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-key': adminKey }, body: JSON.stringify({ accounts }) });
    if (!response.ok) throw new Error(`POST /admin/accounts: ${response.status} ${await response.text()}`);
  }
}

/** W3: `devices` idle devices, 4 per conversation, connected and synced; the server's RSS before and after. */
export async function idle(target: Target, devices: number, concurrency: number): Promise<{ result: IdleResult; fleet: Fleet }> {
  const fleet = new Fleet(target);
  const rssBefore = await settledRss(target.pid);
  const cpuBefore = sampleProc(target.pid);
  const connected = await fleet.connect(Math.ceil(devices / 4), 2, concurrency);
  const rssAfter = await settledRss(target.pid);
  const cpuAfter = sampleProc(target.pid);
  return {
    result: { devices: connected.devices, connectSeconds: connected.seconds, rssBefore, rssAfter, serverCpuSeconds: cpuAfter.cpu - cpuBefore.cpu },
    fleet,
  };
}

/** The server's RSS once it stops moving (two reads 250 ms apart within 1 %), at most 5 s. */
async function settledRss(pid: number): Promise<number> {
  let last = sampleProc(pid).rss;
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const now = sampleProc(pid).rss;
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}
