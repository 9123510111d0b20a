/**
 * What one user may hold on the server's disk, decided in one place:
 *
 * - stored media: the bytes of every hash they uploaded, each once, at most
 *   `quotaBytes` (quota-exceeded); checked against the declared size when an
 *   upload starts and again, against what is stored by then, when it
 *   completes. A hash they uploaded before costs nothing again.
 * - uploads in progress (resumable ones, and one-shot requests while they
 *   stream): at most `maxPending` of them, declaring at most
 *   `maxPendingBytes` together (too-many-uploads).
 * - the free-disk reserve (storage/disk.ts): storage-full.
 *
 * A user's decisions run one at a time (`alone`), so two requests at once
 * cannot both take the last of a quota.
 */
import { Refusal } from '../errors.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { Storage } from '../storage/storage.ts';
import { UploadRefusal } from './refusal.ts';

export interface MediaLimits {
  /** PARLEY_MEDIA_QUOTA_BYTES */
  quotaBytes: number;
  /** PARLEY_MAX_PENDING_UPLOADS */
  maxPending: number;
  /** PARLEY_MAX_PENDING_UPLOAD_BYTES */
  maxPendingBytes: number;
  /** PARLEY_UPLOAD_EXPIRY_MS */
  expiryMs: number;
}

const MiB = 1024 * 1024;
const size = (bytes: number): string => (bytes >= 10 * MiB ? `${Math.round(bytes / MiB)} MiB` : `${bytes} bytes`);

export class Quotas {
  /** One-shot uploads streaming now, per user: they hold disk space without an upload row. */
  private readonly streaming = new Map<string, { count: number; bytes: number }>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly storage: Storage,
    private readonly disk: DiskWatch,
    readonly limits: MediaLimits,
  ) {}

  /** Runs `task` after the user's previous decisions have settled. */
  alone<T>(user: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(user) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(user, settled);
    void settled.then(() => {
      if (this.queues.get(user) === settled) this.queues.delete(user);
    });
    return run;
  }

  /** storage-full unless `incoming` more bytes leave the disk's reserve free. */
  async checkDisk(incoming: number, received: number | null = null): Promise<void> {
    if (!(await this.disk.room(incoming))) throw new UploadRefusal('storage-full', received, `less than ${size(this.disk.reserve)} would be left free`);
  }

  /** A large write happened: the accept path's reading of the free space should see it soon. */
  wrote(): void {
    this.disk.refresh();
  }

  /**
   * May `user` start an upload of `bytes` bytes of `hash`? (Call inside
   * `alone`.) A one-shot upload that does not declare its hash is held to
   * the quota once its bytes, and so its hash, are known.
   */
  async checkStart(user: string, hash: string | null, bytes: number, oneShot = false): Promise<void> {
    await this.checkDisk(bytes);
    if (hash !== null || !oneShot) await this.checkStored(user, hash, bytes);
    const pending = await this.storage.uploadsOf(user);
    const streaming = this.streaming.get(user) ?? { count: 0, bytes: 0 };
    const count = pending.length + streaming.count;
    const declared = pending.reduce((n, u) => n + u.size, 0) + streaming.bytes;
    if (count + 1 > this.limits.maxPending) {
      throw new UploadRefusal('too-many-uploads', null, `${count} uploads in progress; at most ${this.limits.maxPending}`);
    }
    if (declared + bytes > this.limits.maxPendingBytes) {
      throw new UploadRefusal('too-many-uploads', null, `uploads in progress declare ${size(declared)}; at most ${size(this.limits.maxPendingBytes)} together`);
    }
  }

  /** quota-exceeded unless storing `bytes` more of `hash` keeps `user` within their quota (free when they uploaded that hash before). */
  async checkStored(user: string, hash: string | null, bytes: number): Promise<void> {
    if (hash !== null && (await this.storage.hasUploaded(hash, user))) return;
    const used = await this.storage.uploadedBytes(user);
    if (used + bytes > this.limits.quotaBytes) {
      throw new Refusal('quota-exceeded', `${size(used)} stored; ${size(bytes)} more would pass the ${size(this.limits.quotaBytes)} quota`);
    }
  }

  /** Counts a one-shot upload as in progress while `task` runs (after checking it may start). */
  async streamingOneShot<T>(user: string, hash: string | null, bytes: number, task: () => Promise<T>): Promise<T> {
    await this.alone(user, async () => {
      await this.checkStart(user, hash, bytes, true);
      const s = this.streaming.get(user) ?? { count: 0, bytes: 0 };
      this.streaming.set(user, { count: s.count + 1, bytes: s.bytes + bytes });
    });
    try {
      return await task();
    } finally {
      const s = this.streaming.get(user);
      if (s !== undefined && s.count > 1) this.streaming.set(user, { count: s.count - 1, bytes: s.bytes - bytes });
      else this.streaming.delete(user);
    }
  }
}
