/**
 * The media outbox: messages whose bytes are still to be uploaded. A media
 * message is staged like any other (outbox entry, message row) with its Blobs
 * in `blobs`, and held back from its document while `uploads` is `pending`
 * (sync/outboxPlan.ts). This runner uploads the blobs of one message at a time,
 * oldest first; once the server holds them all it marks the entry `done` and
 * asks the hub to write it, the way every outbox entry is written and acked.
 *
 * Network trouble leaves a message pending: it goes on when the network
 * returns (or a little later), from what the server already holds. A refusal
 * marks it failed with its code: Retry uploads again, Delete drops it.
 */
import { isErrorCode, mediaUrl } from '@parley/protocol';
import { db, type BlobRow, type OutboxRow } from '../db.ts';
import { MEDIA_CACHE, MEDIA_CACHE_WHOLE_BYTES } from './cache.ts';
import { uploads } from './state.svelte.ts';
import { codeOf } from '../shared/errors.ts';
import { cancelUpload, uploadBlob } from './uploads.ts';

export interface MediaOutboxContext {
  token: () => string;
  /** The token expired: refresh it. */
  refresh: () => Promise<void>;
  /** Writes the outbox entries of a segment document that it lacks (SyncHub.flushOutbox). */
  flush: (path: string) => Promise<void>;
  error: (e: unknown) => void;
}

/** After network trouble, try again this much later even if no `online` event comes. */
const RETRY_MS = 20_000;

const sizeOf = (rows: readonly BlobRow[]): number => rows.reduce((n, r) => n + r.blob.size, 0);

class MediaOutbox {
  #ctx: MediaOutboxContext | null = null;
  #running = false;
  #again = false;
  #current: { id: string; controller: AbortController } | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #online = (): void => this.kick();

  start(ctx: MediaOutboxContext): void {
    this.stop();
    this.#ctx = ctx;
    window.addEventListener('online', this.#online);
    this.kick();
  }

  stop(): void {
    this.#ctx = null;
    window.removeEventListener('online', this.#online);
    clearTimeout(this.#timer);
    this.#current?.controller.abort();
  }

  /** Looks for work: after staging a message, at start, when the network returns. */
  kick(): void {
    if (this.#ctx === null) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#run()
      .catch((e: unknown) => this.#ctx?.error(e))
      .finally(() => {
        this.#running = false;
      });
  }

  /**
   * Stops uploading message `id` and cancels its uploads on the server (the
   * caller deletes the message). Best effort: an upload nobody completes expires.
   */
  async abort(id: string): Promise<void> {
    if (this.#current?.id === id) this.#current.controller.abort();
    uploads.clear(id);
    const rows = await db.blobs.where('msg').equals(id).toArray();
    const ctx = this.#ctx;
    if (ctx === null || !navigator.onLine) return;
    for (const row of rows) if (!row.done && row.uploadId !== undefined) await cancelUpload(row.uploadId, ctx.token());
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        if (this.#ctx === null) return;
        const waiting = (await db.outbox.where('state').equals('pending').toArray())
          .filter((e): e is OutboxRow => e.kind === 'message' && e.uploads === 'pending')
          .sort((a, b) => a.createdAt - b.createdAt);
        const next = waiting[0];
        if (next === undefined) break;
        if (!navigator.onLine) {
          await this.#markWaiting(waiting);
          break;
        }
        if (!(await this.#send(next))) {
          await this.#markWaiting(waiting);
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => this.kick(), RETRY_MS);
          break;
        }
      }
    } while (this.#again);
  }

  async #markWaiting(entries: readonly OutboxRow[]): Promise<void> {
    for (const entry of entries) {
      const known = uploads.of(entry.id);
      const total = known?.total ?? sizeOf(await db.blobs.where('msg').equals(entry.id).toArray());
      uploads.set(entry.id, { sent: known?.sent ?? 0, total, waiting: true });
    }
  }

  /** Uploads one message's blobs and hands it to the hub; false after network trouble (try later). */
  async #send(entry: OutboxRow): Promise<boolean> {
    const ctx = this.#ctx;
    if (ctx === null) return false;
    const rows = await db.blobs.where('msg').equals(entry.id).toArray();
    const total = sizeOf(rows);
    let base = sizeOf(rows.filter((r) => r.done));
    const controller = new AbortController();
    this.#current = { id: entry.id, controller };
    uploads.set(entry.id, { sent: base, total, waiting: false });
    try {
      for (const row of rows) {
        if (row.done) continue;
        const done = await uploadBlob(
          { blob: row.blob, kind: row.kind, peer: row.peer, mime: row.mime, sha256: row.hash, name: row.name, uploadId: row.uploadId },
          {
            token: ctx.token,
            refresh: ctx.refresh,
            signal: controller.signal,
            created: (uploadId) => db.blobs.update(row.id, { uploadId }),
            progress: (sent) => uploads.set(entry.id, { sent: base + sent, total, waiting: false }),
          },
        );
        if (done.media.hash !== row.hash) throw new Error(`the server stored ${done.media.hash} for ${row.hash}`);
        await db.blobs.update(row.id, { done: true });
        base += row.blob.size;
        await seedCache(row).catch(() => undefined);
      }
      // Every byte is on the server: the message may be written now (unless it was cancelled meanwhile).
      const updated = await db.outbox
        .where('id')
        .equals(entry.id)
        .modify((e) => {
          if (e.kind === 'message') e.uploads = 'done';
        });
      uploads.clear(entry.id);
      if (updated > 0) await ctx.flush(entry.path);
      return true;
    } catch (e) {
      if (controller.signal.aborted) return true;
      const code = codeOf(e);
      if (code === 'network' || code === 'offline') return false;
      if (code === 'unexpected') ctx.error(e);
      await db.outbox.where('id').equals(entry.id).modify({ state: 'failed', code: isErrorCode(code) ? code : 'internal' });
      uploads.clear(entry.id);
      return true;
    } finally {
      this.#current = null;
    }
  }
}

/** Puts uploaded bytes where the service worker looks for media, so the sender's copy works offline. */
async function seedCache(row: BlobRow): Promise<void> {
  if (typeof caches === 'undefined' || row.blob.size > MEDIA_CACHE_WHOLE_BYTES) return;
  const cache = await caches.open(MEDIA_CACHE);
  const headers = { 'content-type': row.mime, 'content-length': String(row.blob.size) };
  await cache.put(new URL(mediaUrl(row.hash), location.href).href, new Response(row.blob, { headers }));
}

export const mediaOutbox = new MediaOutbox();
