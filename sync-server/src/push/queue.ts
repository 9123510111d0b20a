/**
 * The push queue. A push is a row in storage from the moment it is queued
 * until it is sent or given up, so a restart resumes it. In memory there is
 * one lane per device, first in first out, with one request at a time per
 * lane (the pushes of a conversation share a Topic, and the push service must
 * get the newest last) and at most MAX_IN_FLIGHT requests in all.
 *
 *   enqueue → rows written (one transaction per turn) → lane → due → attempt:
 *     2xx              → sent: row dropped
 *     404, 410         → the subscription is gone: deleted, row dropped
 *     endpoint refused → the same (push-endpoint-forbidden: the allow-list
 *                        changed, or its name now resolves to a local address)
 *     429, 5xx, none   → put off: due again after retryDelay; given up after
 *                        MAX_ATTEMPTS or when its TTL would run out first
 *     other 4xx        → dropped and logged (a bug or a refused key)
 *
 * A device online when its turn comes (inbox socket open) gets it by sync:
 * the push is dropped. Stopping aborts requests in flight and leaves their
 * rows for the next start (a push may then arrive twice; its Topic collapses
 * the two).
 */
import { PUSH_TTL_SECONDS, PushPayload } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { QueuedPush, Storage } from '../storage/storage.ts';
import { MAX_ATTEMPTS, retryAfterMs, retryDelay } from './backoff.ts';
import { payloadFor } from './payload.ts';
import type { PushResponse, PushSender } from './sender.ts';
import type { PushSubscriptions } from './subscriptions.ts';

/** Requests to push services at once, over all devices. */
export const MAX_IN_FLIGHT = 16;

export type NewPush = Pick<QueuedPush, 'user' | 'device' | 'payload' | 'urgency' | 'topic'>;

export interface QueueDeps {
  storage: Storage;
  subscriptions: PushSubscriptions;
  sender: PushSender;
  log: Log;
  /** The first wait after a put-off attempt, ms. */
  retryBaseMs: number;
  /** Whether the device has its inbox socket open now. */
  online(user: string, device: string): boolean;
}

const laneOf = (push: { user: string; device: string }): string => `${push.user}\n${push.device}`;

export class PushQueue {
  private readonly lanes = new Map<string, QueuedPush[]>();
  /** Lanes with an attempt under way. */
  private readonly busy = new Map<string, Promise<void>>();
  private readonly requests = new Set<AbortController>();
  private toInsert: NewPush[] = [];
  private toDrop: number[] = [];
  private writeScheduled = false;
  /** Storage writes, one after another (inserts before the drops of their rows). */
  private writes: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: QueueDeps) {}

  /** Takes up the pushes a previous run left. */
  async start(): Promise<void> {
    for (const push of await this.deps.storage.queuedPushes()) this.add(push);
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
   * A recall: drops the queued pushes that announce the message, so that none
   * still carries its text once the recall is durable. A push already being
   * sent is past recalling (the recall's push, with the same Topic, replaces
   * it at the push service).
   */
  forget(messageId: string): void {
    const announces = (push: { payload: string }): boolean => {
      const payload = JSON.parse(push.payload) as { kind?: unknown; message?: { id?: unknown } };
      return payload.kind === 'message' && payload.message?.id === messageId;
    };
    this.toInsert = this.toInsert.filter((push) => !announces(push));
    // After the inserts already under way (writes run in order), so that their rows are in the lanes.
    this.write(() => {
      for (const [lane, rows] of this.lanes) {
        const sending = this.busy.has(lane) ? rows[0] : undefined;
        for (const push of rows.filter((p) => p !== sending && announces(p))) this.finish(push, 'recalled');
      }
      return Promise.resolve();
    });
  }

  /** Settles once nothing is queued, being sent or being written. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending: aborts requests in flight (their rows stay for the next start) and finishes the writes under way. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const request of this.requests) request.abort();
    await Promise.all(this.busy.values());
    this.flushWrites();
    await this.writes;
  }

  private add(push: QueuedPush): void {
    const lane = laneOf(push);
    const rows = this.lanes.get(lane);
    if (rows === undefined) this.lanes.set(lane, [push]);
    else rows.push(push);
  }

  /** Starts every due lane head it may, and sets a timer for the earliest one not yet due. */
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
    this.wakeIfIdle();
  }

  private async attempt(push: QueuedPush): Promise<void> {
    const { storage, subscriptions, log } = this.deps;
    const now = Date.now();
    const expires = push.created + PUSH_TTL_SECONDS * 1000;
    const about = { user: push.user, device: push.device, push: push.id };
    if (now >= expires) return this.finish(push, 'expired');
    if (this.deps.online(push.user, push.device)) return this.finish(push, 'device online');
    const subscription = (await subscriptions.of(push.user)).find((s) => s.device === push.device);
    if (subscription === undefined) return this.finish(push, 'no subscription');
    const body = payloadFor(PushPayload.parse(JSON.parse(push.payload)), subscription.previews);
    if (body === null) {
      log.error(about, 'push payload over the limit');
      return this.finish(push);
    }

    if (this.closed) return; // stopped while looking the subscription up: the row stays for the next start
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
      if (this.closed) return; // stopped: the row stays for the next start
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
    this.write(() => storage.retryPush(push.id, attempts, due));
  }

  /** Takes the push (its lane's head) out of the queue. */
  private finish(push: QueuedPush, why?: string): void {
    if (why !== undefined) this.deps.log.debug({ user: push.user, device: push.device, push: push.id, why }, 'push dropped');
    const lane = laneOf(push);
    const rows = this.lanes.get(lane);
    const at = rows?.indexOf(push) ?? -1;
    if (rows !== undefined && at >= 0) rows.splice(at, 1);
    if (rows?.length === 0) this.lanes.delete(lane);
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
    const { storage } = this.deps;
    if (inserts.length > 0) {
      this.write(async () => {
        const now = Date.now();
        const rows = inserts.map((p) => ({ ...p, created: now, attempts: 0, due: now }));
        const ids = await storage.enqueuePushes(rows);
        rows.forEach((row, i) => this.add({ ...row, id: ids[i] ?? 0 }));
        this.pump();
      });
    }
    if (drops.length > 0) this.write(() => storage.dropPushes(drops));
  }

  private write(task: () => Promise<void>): void {
    this.pendingWrites++;
    this.writes = this.writes
      .then(task)
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'push queue write failed'))
      .finally(() => {
        this.pendingWrites--;
        this.wakeIfIdle();
      });
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
