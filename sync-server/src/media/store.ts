/**
 * The media store: bytes by content, at `<data>/media/<h0h1>/<h2h3>/<hash>`,
 * named by their SHA-256 only, so nothing a user chose (a file name, a mime
 * type) ever reaches a path. A file appears whole, renamed in from the uploads
 * directory on the same file system, or not at all, and is never rewritten:
 * the same hash is the same bytes. The fan-out keeps directories small.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { mediaFile } from '../storage/media-files.ts';

export class MediaStore {
  private constructor(private readonly root: string) {}

  static async open(dataDir: string): Promise<MediaStore> {
    const root = join(dataDir, 'media');
    await makeDirectory(root);
    return new MediaStore(root);
  }

  /** The file of a hash; anything but 64 lower-case hex digits is a bug of the caller. */
  pathOf(hash: string): string {
    return mediaFile(this.root, hash);
  }

  async has(hash: string): Promise<boolean> {
    return (await stat(this.pathOf(hash)).catch(() => null))?.isFile() === true;
  }

  /**
   * Moves `temp` (complete, flushed, hashing to `hash`) into the store; when
   * the hash is stored already the temp file is removed instead.
   */
  async adopt(temp: string, hash: string): Promise<void> {
    const target = this.pathOf(hash);
    if (await this.has(hash)) {
      await rm(temp, { force: true });
      return;
    }
    await makeDirectory(dirname(target));
    await rename(temp, target);
    // The rename is durable once its directory is.
    await syncPath(dirname(target));
  }
}

/** The SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** fsync a file or directory by path. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `mkdir -p`, each directory it created made durable (its parent fsynced): a
 * file made durable in a new fan-out directory whose own entry a power cut
 * lost would be lost with it, while the database says it is stored.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = resolve(dir); ; created = dirname(created)) {
    await syncPath(dirname(created));
    if (created === resolve(first)) return;
  }
}
