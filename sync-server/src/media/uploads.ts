/**
 * Uploads that survive bad networks (one-shot.ts takes a file in one request). An upload is a row (who, for whom, the
 * declared size, type and SHA-256, how much has arrived) and a temp file
 * `<data>/uploads/<random id>`; both outlive a restart, so a client resumes
 * from `received` whatever happened. Bytes are streamed to disk and counted as
 * they arrive; a body that would pass the declared size is refused at that
 * byte, before the rest is read. Completing checks the SHA-256 of what is on
 * disk and moves the file into the content-addressed store.
 *
 * An upload that receives nothing for PARLEY_UPLOAD_EXPIRY_MS is deleted
 * with its file (a sweep at start and every half of that, at most hourly);
 * the client, told upload-not-found, starts again. What a user may start and
 * store is decided by quotas.ts; one request at a time works on an upload
 * (upload-turns.ts).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MEDIA_LIMITS, mediaUrl, UPLOAD_CHUNK_BYTES, UserId, type UploadCreate, type UploadDone, type UploadStatus } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { MediaRecord, Storage, UploadRecord } from '../storage/storage.ts';
import { normaliseMime } from './headers.ts';
import type { Quotas } from './quotas.ts';
import { receive } from './receive.ts';
import { UploadRefusal } from './refusal.ts';
import { makeDirectory, sha256File, syncPath, type MediaStore } from './store.ts';
import { UploadTurns } from './upload-turns.ts';

/** The sweep runs every half expiry, so an upload goes at most 1.5 expiries after its last byte; at most hourly, at least every 50 ms (tests). */
const sweepEvery = (expiryMs: number): number => Math.max(50, Math.min(3600_000, Math.floor(expiryMs / 2)));
/** Upload ids are 128 random bits in hex: the temp file's name, so nothing else may pass for one. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export interface Caller {
  user: string;
  device: string;
}

/** Where uploads in progress keep their bytes: resumable ones under their id, one-shot ones (one-shot.ts) as `<random>.part`. */
export const uploadsDir = (dataDir: string): string => join(dataDir, 'uploads');

export const doneOf = (media: MediaRecord): UploadDone => ({ media: { hash: media.hash, size: media.size, mime: media.mime }, url: mediaUrl(media.hash) });

/** Refuses an upload for a conversation with someone who is not a user, or with the uploader. */
export async function checkPeer(storage: Storage, user: string, peer: string): Promise<void> {
  if (peer === user) throw new Refusal('bad-request', 'the peer is the other member of a conversation, not the uploader');
  if (!UserId.safeParse(peer).success || (await storage.getUser(peer)) === undefined) throw new Refusal('user-not-found', `no user ${peer}`);
}

const statusOf = (upload: UploadRecord, received: number): UploadStatus => ({ id: upload.id, size: upload.size, received, chunkSize: UPLOAD_CHUNK_BYTES });

export class Uploads {
  private readonly turns = new UploadTurns();
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(
    private readonly storage: Storage,
    private readonly store: MediaStore,
    private readonly quotas: Quotas,
    private readonly dir: string,
    private readonly log: Log,
    /** Other processes of a cluster write uploads in `dir` too. */
    private readonly shared: boolean,
  ) {}

  /** Opens `<data>/uploads`, dropping expired uploads and files no upload owns (a one-shot upload cut by a restart). */
  static async open(dataDir: string, storage: Storage, store: MediaStore, quotas: Quotas, log: Log, shared = false): Promise<Uploads> {
    const dir = uploadsDir(dataDir);
    await makeDirectory(dir);
    const uploads = new Uploads(storage, store, quotas, dir, log, shared);
    await uploads.sweep(true);
    uploads.sweeper = setInterval(() => {
      uploads.sweep(false).catch((error: unknown) => log.error({ err: error }, 'upload sweep failed'));
    }, sweepEvery(quotas.limits.expiryMs));
    uploads.sweeper.unref();
    return uploads;
  }

  /** Starts an upload; a hash the caller may read already is done at once. */
  async create(caller: Caller, request: UploadCreate): Promise<{ done: UploadDone } | { status: UploadStatus }> {
    if (request.size > MEDIA_LIMITS[request.kind]) throw new UploadRefusal('media-too-large', null, `${request.size} bytes for a ${request.kind}`);
    await checkPeer(this.storage, caller.user, request.peer);
    // Only for someone who may read it: anyone else proves they hold the bytes by sending them.
    const stored = await this.storage.getMedia(request.sha256);
    if (stored !== undefined && (await this.storage.mayReadMedia(stored.hash, caller.user)) && (await this.store.has(stored.hash))) {
      return { done: doneOf(stored) };
    }
    return this.quotas.alone(caller.user, async () => {
      await this.quotas.checkStart(caller.user, request.sha256, request.size);
      const id = randomBytes(16).toString('hex');
      await writeFile(this.fileOf(id), new Uint8Array(0), { flag: 'wx' });
      const now = Date.now();
      const upload: UploadRecord = {
        id,
        user: caller.user,
        device: caller.device,
        kind: request.kind,
        peer: request.peer,
        size: request.size,
        mime: normaliseMime(request.mime),
        sha256: request.sha256,
        name: request.name ?? null,
        received: 0,
        created: now,
        written: now,
      };
      await this.storage.putUpload(upload);
      return { status: statusOf(upload, 0) };
    });
  }

  /** How much of the upload the server holds (counting a request still writing). */
  async status(caller: Caller, id: string): Promise<UploadStatus> {
    const upload = await this.own(caller.user, id);
    const turn = this.turns.current(id);
    if (turn?.receiving != null) return statusOf(upload, turn.base + turn.receiving.bytes());
    if (turn?.reached != null) return statusOf(upload, turn.reached);
    return statusOf(upload, await this.held(upload));
  }

  /** Appends `body` at `offset` (which must be what the server holds); `length` is the declared Content-Length. */
  async put(caller: Caller, id: string, offset: number, body: Readable, length: number | undefined): Promise<UploadStatus> {
    const { turn, release } = await this.turns.take(this.checkId(id));
    try {
      const upload = await this.own(caller.user, id);
      const received = await this.held(upload);
      if (turn.stopped || offset !== received) {
        throw new UploadRefusal('upload-offset-mismatch', received, `the server holds ${received} bytes; this chunk starts at ${offset}`);
      }
      const room = upload.size - received;
      if (length !== undefined && length > room) throw new UploadRefusal('upload-too-large', received, `${length} bytes where ${room} remain`);
      await this.quotas.checkDisk(length ?? room, received);
      const file = this.fileOf(id);
      // Bytes past `received` (a write cut by a crash before it was recorded) are not part of the upload.
      await truncate(file, received);
      turn.base = received;
      turn.receiving = receive(body, createWriteStream(file, { flags: 'a' }), room);
      const result = await turn.receiving.done;
      const now = received + result.bytes;
      turn.reached = now;
      turn.receiving = null;
      if (result.bytes > 0) {
        await syncPath(file);
        await this.storage.setUploadReceived(id, now, Date.now());
        this.quotas.wrote();
      }
      if (result.outcome === 'over') throw new UploadRefusal('upload-too-large', now, `more than the declared ${upload.size} bytes`);
      return statusOf(upload, now);
    } finally {
      release();
    }
  }

  /** Checks the bytes against the declared SHA-256 and stores them under it. */
  async complete(caller: Caller, id: string): Promise<UploadDone> {
    const { release } = await this.turns.take(this.checkId(id));
    try {
      const upload = await this.own(caller.user, id);
      const file = this.fileOf(id);
      // Moved into the store, and the server stopped before recording it.
      if (!(await isFile(file)) && (await this.store.has(upload.sha256))) return await this.record(upload);
      const received = await this.held(upload);
      if (received < upload.size) throw new UploadRefusal('upload-incomplete', received, `${received} of ${upload.size} bytes`);
      await truncate(file, upload.size);
      if ((await sha256File(file)) !== upload.sha256) {
        await this.forget(id);
        throw new UploadRefusal('hash-mismatch', null);
      }
      return await this.quotas.alone(upload.user, async () => {
        try {
          await this.quotas.checkStored(upload.user, upload.sha256, upload.size);
        } catch (error) {
          // The bytes cannot be kept for this user: they free the disk now rather than at expiry.
          await this.forget(id);
          throw error;
        }
        await this.store.adopt(file, upload.sha256);
        return this.record(upload);
      });
    } finally {
      release();
    }
  }

  async cancel(caller: Caller, id: string): Promise<void> {
    const { release } = await this.turns.take(this.checkId(id));
    try {
      await this.own(caller.user, id);
      await this.forget(id);
    } finally {
      release();
    }
  }

  /** Stops the sweeper and every request in progress; settles once each has recorded what it wrote. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.turns.stopAll();
  }

  private async record(upload: UploadRecord): Promise<UploadDone> {
    const media: MediaRecord = { hash: upload.sha256, size: upload.size, mime: upload.mime, kind: upload.kind, name: upload.name, created: Date.now() };
    await this.storage.addMedia(media, upload.user, upload.id);
    // A hash stored before keeps its first record (its type and name).
    return doneOf((await this.storage.getMedia(upload.sha256)) ?? media);
  }

  private checkId(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new UploadRefusal('upload-not-found', null);
    return id;
  }

  /** The caller's upload; anyone else's is as unknown as one that never was. */
  private async own(user: string, id: string): Promise<UploadRecord> {
    const upload = UPLOAD_ID.test(id) ? await this.storage.getUpload(id) : undefined;
    if (upload?.user !== user) throw new UploadRefusal('upload-not-found', null);
    return upload;
  }

  /** What is held: the recorded count, unless the file lost its tail (a power cut before it reached the disk). */
  private async held(upload: UploadRecord): Promise<number> {
    const file = await stat(this.fileOf(upload.id)).catch(() => null);
    if (file === null) {
      await this.storage.deleteUpload(upload.id);
      throw new UploadRefusal('upload-not-found', null, 'its bytes are gone');
    }
    return Math.min(upload.received, file.size);
  }

  private fileOf(id: string): string {
    return join(this.dir, this.checkId(id));
  }

  private async forget(id: string): Promise<void> {
    await this.storage.deleteUpload(id);
    await rm(this.fileOf(id), { force: true });
  }

  private async sweep(atStart: boolean): Promise<void> {
    const live = new Set<string>();
    for (const upload of await this.storage.uploads()) {
      if (this.idle(upload) && this.turns.current(upload.id) === undefined && (await this.expire(upload.id))) continue;
      live.add(upload.id);
    }
    // Only at start is no request writing a file that has no row yet; in a cluster's shared data dir another
    // process may be, so there only a file untouched for longer than an upload may idle is left over.
    if (!atStart) return;
    for (const name of await readdir(this.dir)) {
      if (live.has(name)) continue;
      const path = join(this.dir, name);
      if (this.shared && Date.now() - ((await stat(path).catch(() => null))?.mtimeMs ?? 0) <= this.quotas.limits.expiryMs) continue;
      await rm(path, { force: true, recursive: true });
    }
  }

  private idle(upload: UploadRecord): boolean {
    return Date.now() - upload.written > this.quotas.limits.expiryMs;
  }

  /**
   * Deletes an idle upload, holding its turn so that no request writes to it
   * meanwhile (one that comes first wins; one that comes later waits, and
   * finds it gone); false if it is in use again.
   */
  private async expire(id: string): Promise<boolean> {
    const { turn, release } = await this.turns.take(id);
    try {
      const upload = await this.storage.getUpload(id);
      if (upload === undefined) return true;
      if (turn.stopped || !this.idle(upload)) return false;
      await this.forget(id);
      this.log.info({ upload: id, user: upload.user }, 'upload expired');
      return true;
    } finally {
      release();
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() === true;
}
