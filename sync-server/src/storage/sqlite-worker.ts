/**
 * The storage worker thread: owns the writing SQLite connection, so a
 * commit's fsync (synchronous=FULL) blocks this thread and not the event
 * loop. A request names a store, one of its methods and the arguments; it is
 * run on this connection's stores (sqlite/), one at a time in arrival order,
 * so commits, compactions and user writes apply in the order the main thread
 * sent them, and each reply is sent only after its transaction is durable.
 *
 * When no request has come for a while, it gives free pages back to the file
 * system, a step at a time, if compaction has left a large share of the file
 * free; on close it gives all of them back.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDatabase, vacuum, VACUUM_STEP_PAGES, worthVacuuming } from './sqlite-db.ts';
import { methodOf, sqliteStores, type SqliteStores } from './sqlite/stores.ts';

/** What a request may call: every store of this connection, and the thread's own `ping` and `close`. */
export type WorkerTargets = SqliteStores & {
  worker: {
    /** Answered once the thread has started and opened the database. */
    ping(): void;
    /** Gives back every free page, closes the connection (a checkpoint), and ends the thread. */
    close(): void;
  };
};

/**
 * `[id, store, method, ...args]`, one array: a request is one object for the
 * structured clone, and a commit's one argument is a transferred buffer
 * (`docs.commitEncoded`), so a commit costs no clone per write.
 */
export type WorkerRequest = [id: number, store: string, method: string, ...args: unknown[]];

/** `code`: SQLite's error code (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, …) or the system's (`ENOSPC`), which say a full disk from a bug. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; stack: string | undefined; code: string | undefined };

export interface WorkerData {
  file: string;
  /** Where replies go (a port of their own, so the main thread can also take them synchronously). */
  replies: MessagePort;
}

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread (see sqlite.ts)');
const { file, replies } = workerData as WorkerData;
const db = openDatabase(file);
const targets: WorkerTargets = {
  ...sqliteStores(db),
  worker: {
    ping: () => undefined,
    close: () => {
      vacuum(db);
      db.close();
    },
  },
};
/** Quiet time before a background vacuum step, ms. */
const IDLE_MS = 200;
let vacuumTimer: NodeJS.Timeout | undefined;
let lastRequest = 0;

/**
 * Only while no request has come for IDLE_MS: a vacuum step is a write
 * transaction, and under load a commit must never wait behind one (the free
 * pages are reused by new log rows meanwhile anyway).
 */
function scheduleVacuum(): void {
  if (vacuumTimer !== undefined || !db.open || !worthVacuuming(db)) return;
  vacuumTimer = setTimeout(() => {
    vacuumTimer = undefined;
    if (!db.open) return;
    if (performance.now() - lastRequest < IDLE_MS) return scheduleVacuum();
    try {
      vacuum(db, VACUUM_STEP_PAGES);
      scheduleVacuum();
    } catch {
      // Free pages stay free (and are reused); the next compaction tries again.
    }
  }, IDLE_MS);
  vacuumTimer.unref();
}

function reply(id: number, run: () => unknown): WorkerReply {
  try {
    return { id, ok: true, value: run() };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = (error as { code?: unknown }).code;
    return { id, ok: false, message: e.message, stack: e.stack, code: typeof code === 'string' ? code : undefined };
  }
}

port.on('message', ([id, store, method, ...args]: WorkerRequest) => {
  lastRequest = performance.now();
  replies.postMessage(reply(id, () => methodOf(targets, store, method)(...args)));
  // Compaction and erasure free pages: give them back once the thread is idle.
  if (store === 'docs' && (method === 'compact' || method === 'erase')) scheduleVacuum();
  if (store === 'worker' && method === 'close') {
    replies.close();
    port.close();
  }
});
