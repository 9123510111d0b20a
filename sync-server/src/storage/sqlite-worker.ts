/**
 * The storage worker thread: owns the writing SQLite connection, so a
 * commit's fsync (synchronous=FULL) blocks this thread and not the event
 * loop. Requests are handled one at a time in arrival order, so commits,
 * compactions and user writes apply in the order the main thread sent them,
 * and each reply is sent only after its transaction is durable.
 *
 * When no request has come for a while, it gives free pages back to the file
 * system, a step at a time, if compaction has left a large share of the file
 * free; on close it gives all of them back.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDatabase, SqliteDb, VACUUM_STEP_PAGES, type UserPatch } from './sqlite-db.ts';
import type { DocSnapshot, MediaRecord, PushSubscriptionRecord, QueuedPush, RelationChange, SessionRecord, UploadRecord, UserRecord } from './storage.ts';
import { decodeWrites } from './write-codec.ts';

export type WorkerRequest =
  /** `writes`: encodeWrites of the batch; the reply's value is a Float64Array of row ids. */
  | { id: number; op: 'commit'; writes: Uint8Array }
  /** A one-row write transaction (Storage.probe). */
  | { id: number; op: 'probe' }
  | { id: number; op: 'compact'; doc: string; snapshot: Uint8Array; upto: number }
  | { id: number; op: 'erase'; docs: readonly DocSnapshot[] }
  | { id: number; op: 'create-user'; user: UserRecord }
  | { id: number; op: 'update-user'; user: string; patch: UserPatch }
  | { id: number; op: 'relations'; changes: readonly RelationChange[] }
  | { id: number; op: 'session-put'; session: SessionRecord }
  /** The reply's value: whether the hash was still `expected` (and is now `next`). */
  | { id: number; op: 'session-rotate'; session: string; expected: string; next: string; lastUsed: number }
  | { id: number; op: 'session-touch'; session: string; lastUsed: number }
  | { id: number; op: 'session-delete'; sessions: readonly string[] }
  | { id: number; op: 'setting'; key: string; value: unknown }
  | { id: number; op: 'push-subscribe'; subscription: PushSubscriptionRecord }
  /** The reply's value: whether a subscription was deleted. */
  | { id: number; op: 'push-unsubscribe'; user: string; device: string; endpoint: string | null }
  /** The reply's value: the new rows' ids. */
  | { id: number; op: 'push-enqueue'; pushes: readonly Omit<QueuedPush, 'id'>[] }
  | { id: number; op: 'push-retry'; push: number; attempts: number; due: number }
  | { id: number; op: 'push-drop'; pushes: readonly number[] }
  | { id: number; op: 'upload-put'; upload: UploadRecord }
  | { id: number; op: 'upload-received'; upload: string; received: number; written: number }
  | { id: number; op: 'upload-delete'; upload: string }
  | { id: number; op: 'media-add'; media: MediaRecord; uploader: string; upload: string | null }
  /** Answered once the thread has started and opened the database. */
  | { id: number; op: 'ping' }
  /** Gives back every free page, closes the connection (a checkpoint), and ends the thread. */
  | { id: number; op: 'close' };

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
const db = new SqliteDb(openDatabase(file));
/** Quiet time before a background vacuum step, ms. */
const IDLE_MS = 200;
let vacuumTimer: NodeJS.Timeout | undefined;
let lastRequest = 0;

function run(request: WorkerRequest): unknown {
  switch (request.op) {
    case 'commit':
      return Float64Array.from(db.commit(decodeWrites(request.writes)));
    case 'probe':
      db.probe();
      return undefined;
    case 'compact':
      db.compact(request.doc, request.snapshot, request.upto);
      scheduleVacuum();
      return undefined;
    case 'erase':
      db.erase(request.docs);
      scheduleVacuum();
      return undefined;
    case 'create-user':
      return db.createUser(request.user);
    case 'update-user':
      db.updateUser(request.user, request.patch);
      return undefined;
    case 'relations':
      db.changeRelations(request.changes);
      return undefined;
    case 'session-put':
      db.putSession(request.session);
      return undefined;
    case 'session-rotate':
      return db.rotateSession(request.session, request.expected, request.next, request.lastUsed);
    case 'session-touch':
      db.touchSession(request.session, request.lastUsed);
      return undefined;
    case 'session-delete':
      db.deleteSessions(request.sessions);
      return undefined;
    case 'setting':
      db.putSetting(request.key, request.value);
      return undefined;
    case 'push-subscribe':
      db.putPushSubscription(request.subscription);
      return undefined;
    case 'push-unsubscribe':
      return db.deletePushSubscription(request.user, request.device, request.endpoint);
    case 'push-enqueue':
      return db.enqueuePushes(request.pushes);
    case 'push-retry':
      db.retryPush(request.push, request.attempts, request.due);
      return undefined;
    case 'push-drop':
      db.dropPushes(request.pushes);
      return undefined;
    case 'upload-put':
      db.putUpload(request.upload);
      return undefined;
    case 'upload-received':
      db.setUploadReceived(request.upload, request.received, request.written);
      return undefined;
    case 'upload-delete':
      db.deleteUpload(request.upload);
      return undefined;
    case 'media-add':
      db.addMedia(request.media, request.uploader, request.upload);
      return undefined;
    case 'ping':
      return undefined;
    case 'close':
      db.vacuum();
      db.close();
      return undefined;
  }
}

/**
 * Only while no request has come for IDLE_MS: a vacuum step is a write
 * transaction, and under load a commit must never wait behind one (the free
 * pages are reused by new log rows meanwhile anyway).
 */
function scheduleVacuum(): void {
  if (vacuumTimer !== undefined || !db.db.open || !db.worthVacuuming()) return;
  vacuumTimer = setTimeout(() => {
    vacuumTimer = undefined;
    if (!db.db.open) return;
    if (performance.now() - lastRequest < IDLE_MS) return scheduleVacuum();
    try {
      db.vacuum(VACUUM_STEP_PAGES);
      scheduleVacuum();
    } catch {
      // Free pages stay free (and are reused); the next compaction tries again.
    }
  }, IDLE_MS);
  vacuumTimer.unref();
}

port.on('message', (request: WorkerRequest) => {
  lastRequest = performance.now();
  let reply: WorkerReply;
  try {
    reply = { id: request.id, ok: true, value: run(request) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = (error as { code?: unknown }).code;
    reply = { id: request.id, ok: false, message: e.message, stack: e.stack, code: typeof code === 'string' ? code : undefined };
  }
  replies.postMessage(reply);
  if (request.op === 'close') {
    replies.close();
    port.close();
  }
});
