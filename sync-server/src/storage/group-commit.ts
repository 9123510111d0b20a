/**
 * Group commit: one storage transaction at a time, holding everything queued
 * since the previous one started. While a commit is in flight (the fsync runs
 * in the storage worker, off the event loop) the next batch accumulates, so
 * one fsync covers every write that arrived during the previous one. Each
 * caller's promise settles after its transaction is durable; callers are
 * settled in queue order, so acks and broadcasts keep acceptance order.
 *
 * The commit window (`windowUs`, PARLEY_COMMIT_WINDOW_US) makes batches
 * larger under load: a batch is taken at most once per window. A write that
 * finds the last batch taken longer ago than the window (an idle server, a
 * lone write) is committed at once, as before; under load the next batch
 * gathers until the window since the previous one has passed, or until that
 * commit finished if it took longer. Each commit is a message to the storage
 * worker and a transaction, and it runs the `beforeFlush` hooks, so fewer
 * and larger commits cost less CPU per message, at the price of at most the
 * window in latency. Node's timers count whole milliseconds: a wait of less
 * than that lasts about one.
 *
 * `beforeFlush` hooks run as a batch is taken, and what they write joins that
 * batch: a write that summarises many others (an inbox entry after many
 * messages) is then made once per transaction instead of once per message.
 *
 * A batch that fails fails every write queued behind it too: those were
 * applied in memory on top of the failed ones (a later struct of a client id
 * depends on its earlier ones), so committing them would store structs that
 * depend on lost ones. The storage is then in fault (storage/health.ts) and
 * every write is refused at once, with the fault's code, until a probe
 * commits; the callers (LiveDoc) drop what they applied. A batch refused by
 * a fence (stores/docs.ts: another process leads one of its documents now)
 * fails the same way, with the FencedError, but puts the storage in no fault.
 */
import { StorageFaultError, type StorageHealth } from './health.ts';
import { FencedError, type Storage, type Write } from './storage.ts';

interface Pending {
  writes: readonly Write[];
  resolve: (ids: number[]) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private inFlight = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** performance.now() when the last batch was taken; the next is taken no sooner than the window after it. */
  private lastTaken = -Infinity;
  private readonly hooks: (() => void)[] = [];
  /** Transactions committed and writes they held, since start (the bench and the stop log line read them). */
  readonly counts = { commits: 0, writes: 0 };

  constructor(
    private readonly storage: Storage,
    readonly health: StorageHealth,
    /** The commit window, µs; 0 takes each batch as soon as the previous commit is done. */
    private readonly windowUs = 0,
  ) {}

  /** The code to refuse a write with now, or null while the storage takes writes. */
  refusing(): StorageFaultError | null {
    const fault = this.health.fault;
    return fault === null ? null : new StorageFaultError(fault.code);
  }

  /**
   * Resolves with the row id of each `update` write (0 for others) once
   * durable. Rejects with a StorageFaultError when the storage is in fault
   * (at once) or when its batch, or one before it, fails; with a
   * FencedError when a fence in its batch is stale.
   */
  write(writes: readonly Write[]): Promise<number[]> {
    const refused = this.refusing();
    if (refused !== null) return Promise.reject(refused);
    // A commit that finished meanwhile is settled first (its acks go out, the next batch leaves).
    if (this.inFlight) this.storage.poll?.();
    return new Promise((resolve, reject) => {
      this.queue.push({ writes, resolve, reject });
      this.schedule();
    });
  }

  /** Runs `hook` each time a batch is taken, before it is sent; writes it queues are part of that batch. */
  beforeFlush(hook: () => void): void {
    this.hooks.push(hook);
  }

  /** Settles when nothing is queued or being committed. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.inFlight && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Never while a commit is in flight. Once the window since the last batch
   * has passed, the batch is taken on setImmediate (the rest of this turn's
   * writes join it); before that, when it has.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    if (this.untilDue() <= 0) setImmediate(this.take);
    else this.waitForWindow();
  }

  private readonly take = (): void => {
    this.scheduled = false;
    void this.flush();
  };

  /** Node's timers run on a clock read once per loop turn, so one may fire early: what is left is waited for again. */
  private waitForWindow(): void {
    setTimeout(() => (this.untilDue() <= 0 ? this.take() : this.waitForWindow()), this.untilDue());
  }

  /** Milliseconds until the window since the last batch has passed (0 or less: it has). */
  private untilDue(): number {
    return this.lastTaken + this.windowUs / 1000 - performance.now();
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    this.lastTaken = performance.now();
    for (const hook of this.hooks) {
      try {
        hook();
      } catch {
        // A hook's failure is its own (it reports it); the batch still goes.
      }
    }
    const batch = this.queue;
    this.queue = [];
    const all = batch.flatMap((p) => p.writes);
    try {
      const ids = all.length === 0 ? [] : await this.storage.commit(all);
      if (all.length > 0) {
        this.counts.commits++;
        this.counts.writes += all.length;
      }
      let at = 0;
      for (const p of batch) {
        p.resolve(ids.slice(at, at + p.writes.length));
        at += p.writes.length;
      }
    } catch (error) {
      // A fenced commit (another process leads one of its documents now) is no fault of the storage, which takes writes still.
      const refused = error instanceof FencedError ? error : new StorageFaultError(this.health.failed(error));
      // Everything queued meanwhile stands on the failed writes: it fails with them.
      const behind = this.queue;
      this.queue = [];
      for (const p of [...batch, ...behind]) p.reject(refused);
    }
    this.inFlight = false;
    if (this.queue.length > 0) this.schedule();
    else this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
