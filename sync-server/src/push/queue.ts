/**
 * The push queue. A push is a row in storage from the moment it is queued
 * until it is sent or given up, so a restart resumes it. Every row carries a
 * claim, the process that sends it and until when (PARLEY_PUSH_CLAIM_MS
 * ahead): processes sharing one database (a cluster) each send only what
 * they claimed, so each push goes out once, whichever process is alive.
 *
 *   enqueue → rows written, claimed by this process (one transaction per
 *             turn) → lane → due → attempt:
 *     2xx              → sent: row dropped
 *     404, 410         → the subscription is gone: deleted, row dropped
 *     endpoint refused → the same (push-endpoint-forbidden: the allow-list
 *                        changed, or its name now resolves to a local address)
 *     429, 5xx, none   → put off: due again after retryDelay; given up after
 *                        MAX_ATTEMPTS or when its TTL would run out first
 *     other 4xx        → dropped and logged (a bug or a refused key)
 *
 * Every third of a claim's length a sweep renews the claims of the rows this
 * process holds (forgetting any another process took after this one stalled
 * past its claim) and claims due rows whose claim ran out: those of a
 * process that died. A process that stops releases its claims, so the
 * others take its rows at their next sweep. A process alone (no cluster)
 * takes every row at start, whoever held it: its previous life, with
 * another id, cannot send them any more.
 *
 * In memory there is one lane per device, in row order, with one request at
 * a time per lane (the pushes of a conversation share a Topic, and the push
 * service must get the newest last) and at most MAX_IN_FLIGHT requests in
 * all. Lanes are per process: in a cluster two processes may push to one
 * device at once, which keeps the order of each conversation's pushes as
 * long as one process queues them (the one that accepts its messages).
 *
 * A device online when its turn comes (inbox socket open, on any process)
 * gets it by sync: the push is dropped. Stopping aborts requests in flight
 * and releases their rows (a push may then arrive twice; its Topic collapses
 * the two). A process stalled past its claim while sending may send a push
 * another process took over: claims make a duplicate rare, never a loss.
 */
import { PUSH_TTL_SECONDS, PushPayload } from '@parley/protocol';
import type { Bus } from '../cluster/bus.ts';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { QueuedPush, Storage } from '../storage/storage.ts';
import { MAX_ATTEMPTS, retryAfterMs, retryDelay } from './backoff.ts';
import { payloadFor } from './payload.ts';
import type { PushResponse, PushSender } from './sender.ts';
import type { PushSubscriptions } from './subscriptions.ts';

/** Requests to push services at once, over all devices. */
export const MAX_IN_FLIGHT = 16;
/** Rows a process holds at most from its sweeps: a dead process's backlog is shared by the others, a batch at a time, not taken by the first. */
export const CLAIM_BATCH = 500;
/** The bus channel that carries recalls to every process's queue. */
const FORGET_CHANNEL = 'push-forget';

export type NewPush = Pick<QueuedPush, 'user' | 'device' | 'payload' | 'urgency' | 'topic'>;

export interface QueueDeps {
  storage: Storage;
  subscriptions: PushSubscriptions;
  sender: PushSender;
  log: Log;
  /** The first wait after a put-off attempt, ms. */
  retryBaseMs: number;
  /** This process's id in the claims: random per start (the bus's node id in a cluster). */
  node: string;
  /** How long a claim lasts, ms (PARLEY_PUSH_CLAIM_MS): a dead process's rows wait that long. */
  claimMs: number;
  /** The cluster's bus: other processes share the queue (and hear recalls); none: this process is alone. */
  bus?: Bus;
  /** Whether the device has its inbox socket open now (on any process, in a cluster). */
  online(user: string, device: string): boolean | Promise<boolean>;
}

const laneOf = (push: { user: string; device: string }): string => `${push.user}\n${push.device}`;

/** The id of the message a push announces (a message's push, not a recall's), if any. */
function announced(push: { payload: string }): string | undefined {
  const payload = JSON.parse(push.payload) as { kind?: unknown; message?: { id?: unknown } };
  return payload.kind === 'message' && typeof payload.message?.id === 'string' ? payload.message.id : undefined;
}

export class PushQueue {
  private readonly lanes = new Map<string, QueuedPush[]>();
  /** The rows in the lanes, by id: what this process claims. */
  private readonly held = new Map<number, QueuedPush>();
  /** Lanes with an attempt under way. */
  private readonly busy = new Map<string, Promise<void>>();
  private readonly requests = new Set<AbortController>();
  /**
   * Messages recalled lately (on any process), until when they are
   * remembered: a dead process's rows that announce one, claimed later, are
   * dropped unsent. Kept for two claims' length, past the time any row
   * queued before the recall could still be claimed by a sweep.
   */
  private readonly recalled = new Map<string, number>();
  private toInsert: NewPush[] = [];
  private toDrop: number[] = [];
  private writeScheduled = false;
  /** Storage writes, one after another (inserts before the drops of their rows, claims after the inserts before them). */
  private writes: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  /** The last sweep found a full batch: there may be more to claim once this process has room. */
  private more = false;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: QueueDeps) {}

  /** Takes up the pushes a previous run (or, in a cluster, a dead process) left, and sweeps from now on. */
  async start(): Promise<void> {
    const { storage, node, claimMs, bus } = this.deps;
    if (bus === undefined) {
      await this.write(async () => {
        const now = Date.now();
        for (const push of await storage.claimPushes(node, now, now + claimMs, Number.MAX_SAFE_INTEGER, true)) this.take(push);
      });
    } else {
      this.unsubscribe = bus.subscribe(FORGET_CHANNEL, (message) => {
        // `<node>\n<message id>`: the node first, since the id is the client's.
        const text = message.toString();
        const at = text.indexOf('\n');
        if (at > 0 && text.slice(0, at) !== node) this.forgetHere(text.slice(at + 1));
      });
      await this.sweep();
    }
    this.sweeper = setInterval(() => void this.sweep(), Math.max(1, Math.floor(claimMs / 3)));
    this.sweeper.unref();
    this.pump();
  }

  /** Queues pushes; they are durable within a turn or two, and sent as soon as their lane is free. */
  enqueue(pushes: readonly NewPush[]): void {
    if (this.closed) {
      this.deps.log.warn({ pushes: pushes.length }, 'pushes queued after the queue closed are lost');
      return;
    }
    this.toInsert.push(...pushes);
    this.scheduleWrite();
  }

  /**
   * A recall: drops the queued pushes that announce the message, on every
   * process, so that none still carries its text once the recall is
   * durable. A push already being sent is past recalling (the recall's push,
   * with the same Topic, replaces it at the push service).
   */
  forget(messageId: string): void {
    this.forgetHere(messageId);
    this.deps.bus?.publish(FORGET_CHANNEL, `${this.deps.node}\n${messageId}`);
  }

  /** Settles once nothing is queued, being sent or being written. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending: aborts requests in flight, finishes the writes under way and releases this process's claims (another process, or the next start, sends their rows). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
    this.unsubscribe?.();
    for (const request of this.requests) request.abort();
    await Promise.all(this.busy.values());
    this.flushWrites();
    void this.write(() => this.deps.storage.releasePushClaims(this.deps.node));
    await this.writes;
  }

  private forgetHere(messageId: string): void {
    const now = Date.now();
    for (const [id, until] of this.recalled) if (until <= now) this.recalled.delete(id);
    this.recalled.set(messageId, now + 2 * this.deps.claimMs);
    this.toInsert = this.toInsert.filter((push) => announced(push) !== messageId);
    // After the inserts already under way (writes run in order), so that their rows are in the lanes.
    void this.write(() => {
      for (const [lane, rows] of this.lanes) {
        const sending = this.busy.has(lane) ? rows[0] : undefined;
        for (const push of rows.filter((p) => p !== sending && announced(p) === messageId)) this.finish(push, 'recalled');
      }
      return Promise.resolve();
    });
  }

  /**
   * Renews the claims of the rows held (a row lost to another process is
   * forgotten, unless it is being sent), then claims due rows whose claim
   * ran out, up to CLAIM_BATCH held. One at a time.
   */
  private sweep(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.sweeping ??= this.write(async () => {
      const { storage, node, claimMs } = this.deps;
      const now = Date.now();
      const ids = [...this.held.keys()];
      if (ids.length > 0) {
        const kept = new Set(await storage.renewPushClaims(node, ids, now + claimMs));
        for (const id of ids) if (!kept.has(id)) this.lose(id);
      }
      const room = CLAIM_BATCH - this.held.size;
      if (room > 0 && !this.closed) {
        const claimed = await storage.claimPushes(node, now, now + claimMs, room);
        this.more = claimed.length === room;
        for (const push of claimed) this.take(push);
      }
    }).finally(() => {
      this.sweeping = null;
      this.pump();
    }));
  }

  /** A claimed row: into its lane, unless it is held already or announces a recalled message. */
  private take(push: QueuedPush): void {
    if (this.held.has(push.id)) return;
    const message = announced(push);
    if (message !== undefined && (this.recalled.get(message) ?? 0) > Date.now()) {
      this.deps.log.debug({ user: push.user, device: push.device, push: push.id, why: 'recalled' }, 'push dropped');
      this.toDrop.push(push.id);
      this.scheduleWrite();
      return;
    }
    this.add(push);
  }

  /** Into its lane in row order, but never ahead of an attempt under way. */
  private add(push: QueuedPush): void {
    this.held.set(push.id, push);
    const lane = laneOf(push);
    const rows = this.lanes.get(lane);
    if (rows === undefined) {
      this.lanes.set(lane, [push]);
      return;
    }
    let at = rows.length;
    const first = this.busy.has(lane) ? 1 : 0;
    while (at > first && (rows[at - 1]?.id ?? 0) > push.id) at--;
    rows.splice(at, 0, push);
  }

  /** Another process holds the row now: out of the lanes, without a write (an attempt under way finishes). */
  private lose(id: number): void {
    const push = this.held.get(id);
    if (push === undefined) return;
    const lane = laneOf(push);
    const rows = this.lanes.get(lane) ?? [];
    if (this.busy.has(lane) && rows[0] === push) return;
    this.deps.log.warn({ user: push.user, device: push.device, push: id }, 'push claim lost to another process');
    this.remove(push);
  }

  private remove(push: QueuedPush): void {
    this.held.delete(push.id);
    const lane = laneOf(push);
    const rows = this.lanes.get(lane);
    const at = rows?.indexOf(push) ?? -1;
    if (rows !== undefined && at >= 0) rows.splice(at, 1);
    if (rows?.length === 0) this.lanes.delete(lane);
  }

  /** Starts every due lane head it may, sets a timer for the earliest one not yet due, and sweeps for more when it has room. */
  private pump(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const [lane, rows] of this.lanes) {
      const head = rows[0];
      if (head === undefined || this.busy.has(lane)) continue;
      if (head.due > now) {
        next = Math.min(next, head.due);
        continue;
      }
      // Full: the attempt that finishes next pumps again.
      if (this.busy.size >= MAX_IN_FLIGHT) break;
      this.busy.set(
        lane,
        this.attempt(head)
          .catch((error: unknown) => {
            // A bug, not the push service: drop the push rather than retry it forever.
            this.deps.log.error({ err: error, user: head.user, device: head.device }, 'push failed');
            this.finish(head);
          })
          .finally(() => {
            this.busy.delete(lane);
            this.pump();
          }),
      );
    }
    if (next < Infinity) {
      this.timer = setTimeout(() => this.pump(), next - now);
      this.timer.unref();
    }
    if (this.more && this.held.size <= CLAIM_BATCH / 2) {
      this.more = false;
      void this.sweep();
    }
    this.wakeIfIdle();
  }

  private async attempt(push: QueuedPush): Promise<void> {
    const { storage, subscriptions, log } = this.deps;
    const now = Date.now();
    const full = PushPayload.parse(JSON.parse(push.payload));
    // The message's own lifetime when shorter (MsgLifeTime), else the push's.
    const expires = push.created + Math.min(PUSH_TTL_SECONDS, full.ttl ?? PUSH_TTL_SECONDS) * 1000;
    const about = { user: push.user, device: push.device, push: push.id };
    if (now >= expires) return this.finish(push, 'expired');
    if (await this.deps.online(push.user, push.device)) return this.finish(push, 'device online');
    const subscription = (await subscriptions.of(push.user)).find((s) => s.device === push.device);
    if (subscription === undefined) return this.finish(push, 'no subscription');
    const body = payloadFor(full, subscription.previews);
    if (body === null) {
      log.error(about, 'push payload over the limit');
      return this.finish(push);
    }

    if (this.closed) return; // stopped while looking the subscription up: the row is released
    const controller = new AbortController();
    this.requests.add(controller);
    let response: PushResponse | null;
    try {
      response = await this.deps.sender.send(
        {
          endpoint: subscription.endpoint,
          keys: { p256dh: subscription.p256dh, auth: subscription.auth },
          payload: body,
          // What is left of its lifetime: a retried push expires when the first attempt's would.
          ttl: Math.max(0, Math.ceil((expires - now) / 1000)),
          urgency: push.urgency,
          topic: push.topic,
        },
        controller.signal,
      );
    } catch (error) {
      if (this.closed) return; // stopped: the row is released
      if (error instanceof Refusal && error.code === 'push-endpoint-forbidden') {
        // Never sent anywhere; dropped as a gone subscription is.
        await subscriptions.delete(push.user, push.device, subscription.endpoint);
        log.warn({ ...about, why: error.message }, 'push endpoint forbidden; subscription deleted');
        return this.finish(push);
      }
      log.info({ ...about, err: error }, 'push service unreachable');
      response = null;
    } finally {
      this.requests.delete(controller);
    }

    const status = response?.status ?? 0;
    if (status >= 200 && status < 300) return this.finish(push);
    if (status === 404 || status === 410) {
      // Only this endpoint: the device may have subscribed again meanwhile.
      await subscriptions.delete(push.user, push.device, subscription.endpoint);
      log.info({ ...about, status }, 'push subscription expired; deleted');
      return this.finish(push);
    }
    if (response !== null && status !== 429 && status < 500) {
      log.warn({ ...about, status }, 'push refused; dropped');
      return this.finish(push);
    }
    const attempts = push.attempts + 1;
    const due = Date.now() + retryDelay(attempts, this.deps.retryBaseMs, retryAfterMs(response?.retryAfter, Date.now()));
    if (attempts >= MAX_ATTEMPTS || due >= expires) {
      log.warn({ ...about, status, attempts }, 'push given up');
      return this.finish(push);
    }
    push.attempts = attempts;
    push.due = due;
    void this.write(() => storage.retryPush(push.id, attempts, due));
  }

  /** Takes the push (its lane's head) out of the queue. */
  private finish(push: QueuedPush, why?: string): void {
    if (why !== undefined) this.deps.log.debug({ user: push.user, device: push.device, push: push.id, why }, 'push dropped');
    this.remove(push);
    this.toDrop.push(push.id);
    this.scheduleWrite();
  }

  /** Inserts and drops of one turn go to storage together. */
  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    setImmediate(() => this.flushWrites());
  }

  private flushWrites(): void {
    this.writeScheduled = false;
    const inserts = this.toInsert;
    const drops = this.toDrop;
    this.toInsert = [];
    this.toDrop = [];
    const { storage, node, claimMs } = this.deps;
    if (inserts.length > 0) {
      void this.write(async () => {
        const now = Date.now();
        const rows = inserts.map((p) => ({ ...p, created: now, attempts: 0, due: now }));
        const ids = await storage.enqueuePushes(rows, node, now + claimMs);
        rows.forEach((row, i) => this.add({ ...row, id: ids[i] ?? 0 }));
        this.pump();
      });
    }
    if (drops.length > 0) void this.write(() => storage.dropPushes(drops));
  }

  /** Runs `task` after the writes before it; settles when it has (a failure is logged, not thrown). */
  private write(task: () => Promise<void>): Promise<void> {
    this.pendingWrites++;
    this.writes = this.writes
      .then(task)
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'push queue write failed'))
      .finally(() => {
        this.pendingWrites--;
        this.wakeIfIdle();
      });
    return this.writes;
  }

  private isIdle(): boolean {
    return this.lanes.size === 0 && this.busy.size === 0 && this.pendingWrites === 0 && this.toInsert.length === 0 && this.toDrop.length === 0;
  }

  private wakeIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
