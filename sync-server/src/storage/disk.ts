/**
 * The free-disk reserve. Below `reserve` bytes free on the data directory's
 * file system (fs.statfs, the blocks the server's own user may still take),
 * the server refuses uploads and new messages with storage-full before it
 * writes anything, so nothing is acknowledged and then lost to a full disk,
 * and the database keeps room for its write-ahead log, recalls and sign-ins.
 *
 * The accept path may not wait for a system call: it reads `full()`, the last
 * reading, taken every READ_EVERY_MS and after every large write. Uploads,
 * which are large and not on that path, read afresh (`room`).
 */
import { statfs } from 'node:fs/promises';
import type { Log } from '../log.ts';

/** How old the accept path's reading may be. A message is small; a second of them cannot fill a reserve. */
const READ_EVERY_MS = 1000;

export class DiskWatch {
  private free = Number.POSITIVE_INFINITY;
  private reading: Promise<number> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** When the last reading first fell below the reserve (ms since the epoch), null while above it. */
  private belowSince: number | null = null;

  private constructor(
    private readonly dir: string,
    /** Bytes to keep free; 0 turns the check off. */
    readonly reserve: number,
    private readonly log: Log,
  ) {}

  /** Reads once (so the first message is judged on a real reading) and then every READ_EVERY_MS. */
  static async start(dir: string, reserve: number, log: Log): Promise<DiskWatch> {
    const watch = new DiskWatch(dir, reserve, log);
    if (reserve === 0) return watch;
    await watch.read();
    watch.timer = setInterval(() => void watch.read(), READ_EVERY_MS);
    watch.timer.unref();
    return watch;
  }

  /** Whether the last reading is below the reserve (no waiting: for the accept path). */
  full(): boolean {
    return this.reserve > 0 && this.free < this.reserve;
  }

  /** Since when the free space has been below the reserve (GET /api/v1/ready), or null. */
  fullSince(): number | null {
    return this.full() ? this.belowSince : null;
  }

  /** Reads now: whether `incoming` more bytes leave the reserve free. */
  async room(incoming = 0): Promise<boolean> {
    if (this.reserve === 0) return true;
    return (await this.read()) - incoming >= this.reserve;
  }

  /** Free bytes now, read afresh whatever the reserve (storage/health.ts, after a full disk). */
  freeBytes(): Promise<number> {
    return this.read();
  }

  /** Takes a new reading soon (after a large write), without waiting for it. */
  refresh(): void {
    if (this.reserve > 0) void this.read();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Free bytes now; concurrent callers share one system call. */
  private read(): Promise<number> {
    this.reading ??= statfs(this.dir)
      .then(
        (stats) => {
          this.failing = false;
          const wasFull = this.full();
          this.free = stats.bavail * stats.bsize;
          if (this.full() !== wasFull) {
            this.belowSince = wasFull ? null : Date.now();
            if (wasFull) this.log.info({ free: this.free, reserve: this.reserve }, 'free disk space above the reserve again: uploads and messages accepted');
            else this.log.warn({ free: this.free, reserve: this.reserve }, 'free disk space below the reserve: uploads and new messages are refused (storage-full)');
          }
          return this.free;
        },
        (error: unknown) => {
          // A file system that cannot say: keep the last reading rather than refuse every write. Logged once per failing spell.
          if (!this.failing) this.log.error({ err: error, dir: this.dir }, 'free disk space unreadable');
          this.failing = true;
          return this.free;
        },
      )
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}
