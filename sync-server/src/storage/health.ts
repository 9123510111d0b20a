/**
 * Whether the storage can take writes. A commit that fails (a full disk, an
 * I/O error) puts it in fault: from then on the group commit refuses every
 * write at once, before anything is applied in memory, with the fault's code
 * (`storage-full` for a full disk or a file over its size limit,
 * `storage-unavailable` for any other failure), and the server reports not
 * ready (GET /api/v1/ready). Every `retryMs` a probe tries the disk; the
 * first that passes ends the fault, so writes resume by themselves when
 * space comes back. A probe is one small real write transaction
 * (Storage.probe) and, after a full disk, a reading of the free space, which
 * must be at least `resumeFreeBytes`: a one-row transaction alone commits
 * into the room a failed one left in the write-ahead log long before a
 * batch of messages fits again, and writes would resume only to fail again.
 *
 * Logged once per fault (error, with the storage's own error) and once when
 * it ends (info), not once per refused write.
 */
import type { Log } from '../log.ts';
import type { Storage } from './storage.ts';

export type StorageFaultCode = 'storage-full' | 'storage-unavailable';

export interface StorageFault {
  code: StorageFaultCode;
  /** When the first failing commit was seen, ms since the epoch. */
  since: number;
  /** The storage's error, for the operator (SQLITE_FULL, SQLITE_IOERR_WRITE, …). */
  detail: string;
}

/** A write refused, or failed, because the storage is in fault: its `code` is the refusal to give the writer. */
export class StorageFaultError extends Error {
  constructor(readonly code: StorageFaultCode) {
    super(`storage in fault: ${code}`);
    this.name = 'StorageFaultError';
  }
}

/**
 * SQLite says a full disk as SQLITE_FULL (from ENOSPC); a file over its size
 * limit (EFBIG, `ulimit -f`) may reach it as an I/O error, with the system's
 * code in the message; PostgreSQL says it as SQLSTATE 53100. Everything else
 * (a lost connection too) is an unavailable storage.
 */
export function faultCodeOf(error: unknown): StorageFaultCode {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : '';
  const message = error instanceof Error ? error.message : String(error);
  // 53100: PostgreSQL's disk_full.
  if (/^(SQLITE_FULL|ENOSPC|EFBIG|EDQUOT|53100)$/.test(code) || /ENOSPC|EFBIG|EDQUOT|database or disk is full|no space left/i.test(message)) return 'storage-full';
  return 'storage-unavailable';
}

export interface HealthOptions {
  /** PARLEY_STORAGE_RETRY_MS */
  retryMs: number;
  /** PARLEY_STORAGE_RESUME_FREE_BYTES: the free space a full disk must have again before writes resume. */
  resumeFreeBytes: number;
  /** Free bytes on the data directory's file system now (storage/disk.ts); without it, only the transaction is tried. */
  freeBytes?: () => Promise<number>;
}

export class StorageHealth {
  private current: StorageFault | null = null;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  private readonly retryMs: number;

  constructor(
    private readonly storage: Pick<Storage, 'probe'>,
    private readonly options: HealthOptions,
    private readonly log: Log,
  ) {
    this.retryMs = options.retryMs;
  }

  /** The fault now, or null while writes are taken. */
  get fault(): StorageFault | null {
    return this.current;
  }

  /** A commit failed with `error`: the storage is in fault until a probe commits. Returns the fault's code. */
  failed(error: unknown): StorageFaultCode {
    if (this.current !== null) return this.current.code;
    const code = faultCodeOf(error);
    this.current = { code, since: Date.now(), detail: error instanceof Error ? error.message : String(error) };
    this.log.error({ err: error, code, retryMs: this.retryMs }, 'storage write failed: writes are refused until a probe commits (GET /api/v1/ready says why)');
    this.schedule();
    return code;
  }

  /** Stops probing (shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed || this.current === null) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probe(), this.retryMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const fault = this.current;
    if (this.probing || fault === null) return;
    this.probing = true;
    try {
      const free = fault.code === 'storage-full' && this.options.freeBytes !== undefined ? await this.options.freeBytes() : Infinity;
      if (free < this.options.resumeFreeBytes) throw new Error(`${free} bytes free, fewer than ${this.options.resumeFreeBytes} (PARLEY_STORAGE_RESUME_FREE_BYTES)`);
      await this.storage.probe();
      this.current = null;
      this.log.info({ code: fault.code, since: fault.since, forMs: Date.now() - fault.since }, 'storage writes again: the fault is over, writes are taken');
    } catch (error) {
      this.log.debug({ err: error }, 'storage probe failed');
      this.schedule();
    } finally {
      this.probing = false;
    }
  }
}
