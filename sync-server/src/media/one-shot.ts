/**
 * An upload in one request, not resumable, of any length: counted against the
 * kind's limit as it arrives and hashed on the way to disk, with no upload
 * row. Its temp file `<data>/uploads/<random>.part` goes whatever happens; one
 * left by a crash goes at the next start (uploads.ts's sweep).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AVATAR_MIME_TYPES, MEDIA_LIMITS, type OneShotUploadQuery, type UploadDone } from '@parley/protocol';
import type { z } from 'zod';
import { Refusal } from '../errors.ts';
import type { MediaRecord, Storage } from '../storage/storage.ts';
import { normaliseMime } from './headers.ts';
import type { Quotas } from './quotas.ts';
import { receive } from './receive.ts';
import { UploadRefusal } from './refusal.ts';
import { syncPath, type MediaStore } from './store.ts';
import { checkPeer, doneOf, type Caller } from './uploads.ts';

export class OneShotUploads {
  constructor(
    private readonly storage: Storage,
    private readonly store: MediaStore,
    private readonly quotas: Quotas,
    private readonly dir: string,
  ) {}

  async receive(caller: Caller, query: z.output<typeof OneShotUploadQuery>, body: Readable, length: number | undefined): Promise<UploadDone> {
    const limit = MEDIA_LIMITS[query.kind];
    if (length !== undefined && length > limit) throw new UploadRefusal('media-too-large', null, `${length} bytes for a ${query.kind}`);
    if (query.peer !== undefined) await checkPeer(this.storage, caller.user, query.peer);
    // No peer: an avatar, which belongs to no conversation; only an image a browser draws (PATCH /me then checks it is the caller's).
    else if (query.kind !== 'image' || !AVATAR_MIME_TYPES.includes(normaliseMime(query.mime))) {
      throw new Refusal('bad-request', `an upload without a peer is an avatar: kind=image and one of ${AVATAR_MIME_TYPES.join(', ')}`);
    }
    // Without a Content-Length it may be as long as its kind allows.
    return this.quotas.streamingOneShot(caller.user, query.sha256 ?? null, length ?? limit, async () => {
      const temp = join(this.dir, `${randomBytes(16).toString('hex')}.part`);
      const hash = createHash('sha256');
      try {
        const result = await receive(body, createWriteStream(temp, { flags: 'wx' }), limit, (chunk) => hash.update(chunk)).done;
        this.quotas.wrote();
        if (result.outcome === 'over') throw new UploadRefusal('media-too-large', null, `more than ${limit} bytes for a ${query.kind}`);
        if (result.outcome === 'cut') throw new Refusal('bad-request', 'the body broke off');
        const sha256 = hash.digest('hex');
        if (query.sha256 !== undefined && query.sha256 !== sha256) throw new UploadRefusal('hash-mismatch', null);
        await syncPath(temp);
        return await this.quotas.alone(caller.user, async () => {
          await this.quotas.checkStored(caller.user, sha256, result.bytes);
          await this.store.adopt(temp, sha256);
          const media: MediaRecord = { hash: sha256, size: result.bytes, mime: normaliseMime(query.mime), kind: query.kind, name: query.name ?? null, created: Date.now() };
          await this.storage.addMedia(media, caller.user, null);
          return doneOf((await this.storage.getMedia(sha256)) ?? media);
        });
      } finally {
        await rm(temp, { force: true });
      }
    });
  }
}
