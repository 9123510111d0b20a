/**
 * The media store's file layout (`<data>/media/ab/cd/<hash>`), known to the
 * storage layer too: a backup checks that every media row has its file. It
 * lives here, at the bottom, so that storage/ imports nothing from media/.
 */
import { join } from 'node:path';
import { MEDIA_HASH_PATTERN } from '@parley/protocol';

/** Where the store under `root` (`<data>/media`) keeps a hash's bytes. */
export function mediaFile(root: string, hash: string): string {
  if (!MEDIA_HASH_PATTERN.test(hash)) throw new Error(`not a media hash: ${JSON.stringify(hash)}`);
  return join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
}
