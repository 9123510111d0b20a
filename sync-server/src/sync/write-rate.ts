/**
 * The per-user write rate: a token bucket per user, `burst` tokens deep,
 * refilled at `rate` per second. Each new message, edit, reaction or action a
 * user writes in a conversation takes one token (receipts, read markers and
 * other prefs do not: a device writes those by itself). Admin API sends never
 * come here.
 *
 * An update holding more writes than the bucket holds (a device back from a
 * long offline spell sends everything it wrote in one sync step 2) passes
 * when the bucket is full and leaves it in debt: the update's writes were
 * spread over the time the device was away, and the user then waits until the
 * bucket refills. So over any stretch of time a user writes at most `burst`
 * plus `rate` per second, plus one update (which the update budget bounds).
 *
 * The check is synchronous because the accept path is: updates are judged,
 * stamped and queued in acceptance order without awaiting anything. In a
 * cluster, cluster/write-rate.ts keeps this bucket and charges it with what
 * the other processes took (told through Redis), behind the same `take`.
 */
export interface WriteRate {
  /** Takes `writes` tokens of `user`'s bucket, or says how long until they are there. */
  take(user: string, writes: number, now?: number): { ok: true } | { ok: false; retryAfterMs: number };
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept in this process's memory; a full bucket is forgotten (it is the default). */
export class MemoryWriteRate implements WriteRate {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  private tokensOf(bucket: Bucket | undefined, now: number): number {
    if (bucket === undefined) return this.burst;
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.rate) / 1000);
  }

  /** Takes `writes` tokens whatever the bucket holds: writes another process accepted. The bucket may go into debt. */
  charge(user: string, writes: number, now = Date.now()): void {
    if (writes <= 0) return;
    this.buckets.set(user, { tokens: this.tokensOf(this.buckets.get(user), now) - writes, at: now });
  }

  take(user: string, writes: number, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    if (writes <= 0) return { ok: true };
    const tokens = this.tokensOf(this.buckets.get(user), now);
    // More writes than the bucket holds: only from a full bucket (see above).
    const needed = Math.min(writes, this.burst);
    if (tokens < needed) return { ok: false, retryAfterMs: Math.ceil(((needed - tokens) * 1000) / this.rate) };
    this.buckets.set(user, { tokens: tokens - writes, at: now });
    if (++this.takes % 1024 === 0) this.sweep(now);
    return { ok: true };
  }

  /** Forgets full buckets, so memory follows the users writing now, not every user who ever wrote. */
  private sweep(now: number): void {
    for (const [user, bucket] of this.buckets) if (this.tokensOf(bucket, now) >= this.burst) this.buckets.delete(user);
  }
}
