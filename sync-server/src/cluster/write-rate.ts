/**
 * The per-user write rate of a cluster: each process keeps the synchronous
 * bucket of sync/write-rate.ts (the accept path cannot wait for Redis), and
 * tells the others what it took. Every SHARE_EVERY_MS at most, a process that
 * accepted writes publishes them, per user, on the bus (`write-rate`); every
 * other process charges its own bucket of each user with them. So every
 * bucket counts what the user wrote on every process, each learning of the
 * others' writes within one interval (plus Redis's delivery, a millisecond).
 *
 * The bound: over any stretch of time T, a user's writes accepted on all
 * processes together stay within `burst + rate × T` (the bucket's own bound,
 * as on one process) plus what the other processes accepted in the last
 * interval before each acceptance, which no bucket had heard of yet: at
 * most `rate × interval` per other process once the user writes steadily,
 * and one `burst` per other process when the user starts writing on several
 * at once with full buckets. A process that starts knows nothing of before
 * it, like a restarted single server.
 *
 * Redis holds nothing here: a message lost while Redis is away (the bus
 * resyncs after) only lets through what it carried, once.
 */
import { MemoryWriteRate, type WriteRate } from '../sync/write-rate.ts';
import type { Bus } from './bus.ts';

/** How long a process gathers what it took before telling the others: the slack of the bound above. */
export const SHARE_EVERY_MS = 50;
const CHANNEL = 'write-rate';

/** What a process took since it last told: [user, writes] pairs. */
interface Taken {
  node: string;
  taken: [string, number][];
}

const isTaken = (value: unknown): value is Taken =>
  typeof value === 'object' && value !== null && typeof (value as Taken).node === 'string' && Array.isArray((value as Taken).taken);

export class SharedWriteRate implements WriteRate {
  private readonly local: MemoryWriteRate;
  /** Taken here since the last message, by user. */
  private taken = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private bus: Bus | undefined;
  private unsubscribe: () => void = () => undefined;

  /** A bucket of this process's until `join`: the hub is built before the cluster's bus is up, and no socket writes before. */
  constructor(rate: number, burst: number) {
    this.local = new MemoryWriteRate(rate, burst);
  }

  /** Shares from now on through `bus`. */
  join(bus: Bus): void {
    this.bus = bus;
    this.unsubscribe = bus.subscribe(CHANNEL, (message) => this.heard(message));
  }

  take(user: string, writes: number, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const result = this.local.take(user, writes, now);
    if (result.ok && writes > 0 && this.bus !== undefined) {
      this.taken.set(user, (this.taken.get(user) ?? 0) + writes);
      if (this.timer === undefined) {
        this.timer = setTimeout(() => this.share(), SHARE_EVERY_MS);
        this.timer.unref();
      }
    }
    return result;
  }

  /** Tells the others what is left to tell, and stops hearing them. */
  close(): void {
    clearTimeout(this.timer);
    this.share();
    this.unsubscribe();
  }

  private share(): void {
    this.timer = undefined;
    if (this.taken.size === 0 || this.bus === undefined) return;
    const message: Taken = { node: this.bus.node, taken: [...this.taken] };
    this.taken = new Map();
    this.bus.publish(CHANNEL, JSON.stringify(message));
  }

  private heard(message: Buffer): void {
    const parsed: unknown = JSON.parse(message.toString());
    if (!isTaken(parsed) || parsed.node === this.bus?.node) return;
    const now = Date.now();
    for (const [user, writes] of parsed.taken) this.local.charge(user, writes, now);
  }
}
