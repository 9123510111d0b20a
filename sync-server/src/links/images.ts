/**
 * Preview images, re-served from Parley's own origin so that a reader's
 * device never contacts the linked site: kept by content hash in
 * `<data dir>/link-images/`, only when their first bytes are a PNG, JPEG,
 * GIF or WebP picture (whatever the site called them), and served with that
 * type, `nosniff` and an immutable cache. They are a cache: a lost file only
 * shows the card without its picture.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LINK_IMAGE_PATH } from '@parley/protocol';

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** The picture type its first bytes say, or null for anything else (an SVG, HTML, a script). */
export function sniffImage(bytes: Buffer): ImageType | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 6 && ['GIF87a', 'GIF89a'].includes(bytes.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

export class LinkImages {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'link-images');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Keeps a picture; its address on this server (LINK_IMAGE_PATH/<sha256>), or null when the bytes are no picture. */
  async keep(bytes: Buffer): Promise<string | null> {
    if (sniffImage(bytes) === null) return null;
    const hash = createHash('sha256').update(bytes).digest('hex');
    const path = join(this.dir, hash);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      // Written whole, then renamed: a reader never sees half a picture.
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, path);
    }
    return `${LINK_IMAGE_PATH}/${hash}`;
  }

  /** A kept picture and its type; null when there is none by that hash. */
  async read(hash: string): Promise<{ bytes: Buffer; type: ImageType } | null> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return null;
    const bytes = await readFile(join(this.dir, hash)).catch(() => null);
    const type = bytes === null ? null : sniffImage(bytes);
    return bytes === null || type === null ? null : { bytes, type };
  }
}
