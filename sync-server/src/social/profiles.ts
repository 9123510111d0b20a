/**
 * A user as others see them: id, nickname, avatar and about line. Here rather than in
 * auth/ because the sync core shows profiles (in inboxes) as much as the
 * account API does, and sync/ does not point up at auth/.
 *
 * Avatars are images uploaded to Parley (auth/avatar.ts refuses any other
 * value when one is set); a value of another form stored before that rule
 * is not shown, so showing a profile never makes a peer's browser fetch a
 * third party's address.
 */
import { isAvatarUrl, type ProfileEntry } from '@parley/protocol';
import type { UserRecord } from '../storage/storage.ts';

export function profileOf(user: UserRecord): ProfileEntry {
  const avatar = shownAvatar(user.avatar);
  const profile: ProfileEntry = avatar === null ? { id: user.id, nickname: user.nickname } : { id: user.id, nickname: user.nickname, avatar };
  // Absent when empty, so that a profile without one reads as it always has.
  if (user.about !== undefined && user.about !== '') profile.about = user.about;
  return profile;
}

/** A stored avatar as profiles show it: one of another form (stored before the rule) is dropped. */
function shownAvatar(avatar: string | null): string | null {
  return avatar !== null && isAvatarUrl(avatar) ? avatar : null;
}
