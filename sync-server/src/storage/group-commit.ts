/**
 * Group commit: every write queued during one turn of the event loop goes to
 * storage in one transaction (flushed on setImmediate), so one fsync covers
 * them all. Each caller's promise settles after that transaction; callers are
 * settled in queue order, so acks and broadcasts keep acceptance order.
 */
import type { Storage, Write } from './storage.ts';

interface Pending {
  writes: readonly Write[];
  resolve: (ids: number[]) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly storage: Storage) {}

  /** Resolves with the row id of each `update` write (0 for others) once durable. */
  write(writes: readonly Write[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ writes, resolve, reject });
      this.schedule();
    });
  }

  /** Settles when nothing is queued or being committed. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.flushing === null && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0) this.schedule();
        else this.wakeIdle();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const all = batch.flatMap((p) => p.writes);
    try {
      const ids = await this.storage.commit(all);
      let at = 0;
      for (const p of batch) {
        p.resolve(ids.slice(at, at + p.writes.length));
        at += p.writes.length;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
