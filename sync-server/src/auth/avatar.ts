/**
 * Avatars are images uploaded to Parley and served from its own origin: an
 * avatar is the relative address `/api/v1/media/<sha256>` of media that
 * exists (and, set by a user, that the user may read: they uploaded it or
 * were sent it). Anything else — an external URL, a data: URL — is refused
 * with avatar-invalid, so showing a profile never makes a peer's browser
 * fetch a third party's address. Such values stored before this rule are
 * not served (social/profiles.ts drops them).
 */
import { avatarHash } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Storage } from '../storage/storage.ts';

/** Refuses an avatar that is not media of this server (readable by `user`, when a user sets it). */
export async function checkAvatar(storage: Storage, avatar: string | undefined, user: string | null): Promise<void> {
  if (avatar === undefined) return;
  const hash = avatarHash(avatar);
  if (hash === null) throw new Refusal('avatar-invalid');
  const readable = user === null ? (await storage.getMedia(hash)) !== undefined : await storage.mayReadMedia(hash, user);
  if (!readable) throw new Refusal('avatar-invalid', 'no such image uploaded to this server');
}
