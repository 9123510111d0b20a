/**
 * Media as the HTTP layer sees it: the uploads (resumable and one-shot), and
 * who may read what.
 *
 * A hash is readable by whoever uploaded it and by both members of every
 * conversation with an accepted message that references it, provided its
 * sender could read it (storage's `media-ref`). Anyone else is told it does
 * not exist (404 media-not-found, not 403): a stranger learns nothing, not
 * even whether some conversation holds that file.
 */
import { rm } from 'node:fs/promises';
import { MEDIA_HASH_PATTERN, mediaUrl } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { MediaRecord, Storage } from '../storage/storage.ts';
import { OneShotUploads } from './one-shot.ts';
import { Quotas, type MediaLimits } from './quotas.ts';
import { MediaStore } from './store.ts';
import { Uploads, uploadsDir } from './uploads.ts';

export class Media {
  private constructor(
    readonly uploads: Uploads,
    readonly oneShot: OneShotUploads,
    private readonly store: MediaStore,
    private readonly storage: Storage,
  ) {}

  /** `shared`: other processes of a cluster use the same data dir (docs/deploy.md), and write uploads in it too. */
  static async open(dataDir: string, storage: Storage, log: Log, { limits, disk, shared = false }: { limits: MediaLimits; disk: DiskWatch; shared?: boolean }): Promise<Media> {
    const store = await MediaStore.open(dataDir);
    const quotas = new Quotas(storage, disk, limits);
    const uploads = await Uploads.open(dataDir, storage, store, quotas, log, shared);
    return new Media(uploads, new OneShotUploads(storage, store, quotas, uploadsDir(dataDir)), store, storage);
  }

  /** The record and file of `hash`, if `user` may read it; media-not-found otherwise. */
  async readable(user: string, hash: string): Promise<{ media: MediaRecord; path: string }> {
    const media = MEDIA_HASH_PATTERN.test(hash) ? await this.storage.getMedia(hash) : undefined;
    const mayRead = media !== undefined && ((await this.storage.mayReadMedia(hash, user)) || (await this.storage.isAvatar(mediaUrl(hash))));
    if (media === undefined || !mayRead || !(await this.store.has(hash))) throw new Refusal('media-not-found');
    return { media, path: this.store.pathOf(hash) };
  }

  /**
   * Account deletion: the user's uploads in progress are cancelled, and the
   * files of the media only they kept (no other uploader, no conversation
   * reference left after their messages were recalled) are deleted, then
   * their rows. Files first: a crash in between leaves rows that a retry
   * finds again. Resolves with the hashes whose files went.
   */
  async forgetUploader(user: string): Promise<string[]> {
    for (const upload of await this.storage.uploadsOf(user)) await this.uploads.cancel({ user, device: upload.device }, upload.id).catch(() => undefined);
    const gone = await this.storage.mediaOnlyOf(user);
    for (const hash of gone) await rm(this.store.pathOf(hash), { force: true });
    await this.storage.forgetUploader(user);
    return gone;
  }

  /** The file of a stored hash (export reads it; the caller checked the right to). */
  pathOf(hash: string): string {
    return this.store.pathOf(hash);
  }

  /** Stops the uploads in progress, once they have recorded what they wrote. */
  close(): Promise<void> {
    return this.uploads.close();
  }
}
