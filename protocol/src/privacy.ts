/**
 * A user's privacy settings, which the server enforces (docs/security.md,
 * "Privacy settings" and "Finding people"): whether read receipts flow, who
 * sees when they are online and when they were last seen, and whether people
 * search finds them by id prefix and nickname.
 *
 * - `readReceipts: false` works both ways, as in the apps people know: the
 *   user sends none, and sees none from anyone. A read receipt in a
 *   conversation is taken only while both members have them on.
 * - `presence` (`everyone`, `contacts`, `nobody`): who sees the user online
 *   and their last-seen time; contacts are the user's friends. A user who
 *   shows it to nobody sees nobody's last-seen time either.
 */
import { z } from 'zod';
import { UserId } from './schemas.ts';

export const PresenceVisibility = z.enum(['everyone', 'contacts', 'nobody']);
export type PresenceVisibility = z.infer<typeof PresenceVisibility>;

export const Privacy = z.object({ readReceipts: z.boolean(), presence: PresenceVisibility, discoverable: z.boolean() });
export type Privacy = z.infer<typeof Privacy>;

/** What a user who never changed a setting has: receipts on, presence shown to everyone, found by search. */
export const DEFAULT_PRIVACY: Privacy = { readReceipts: true, presence: 'everyone', discoverable: true };

/** PATCH /api/v1/me/privacy: any of the settings, at least one. */
export const PrivacyPatch = Privacy.partial().refine((p) => p.readReceipts !== undefined || p.presence !== undefined || p.discoverable !== undefined, {
  error: 'name at least one setting',
});
export type PrivacyPatch = z.infer<typeof PrivacyPatch>;

/**
 * What a viewer may know of `owner`, given both users' settings and whether
 * `owner` counts the viewer among their contacts. `hidden`: a block between
 * them (either way) hides everything.
 */
export function presenceVisible(owner: Privacy, viewer: Privacy, ownerCountsViewerAsContact: boolean, hidden: boolean): boolean {
  if (hidden || viewer.presence === 'nobody') return false;
  if (owner.presence === 'everyone') return true;
  return owner.presence === 'contacts' && ownerCountsViewerAsContact;
}

/** Whether read receipts flow between two users: both have them on. */
export function readReceiptsFlow(a: Privacy, b: Privacy): boolean {
  return a.readReceipts && b.readReceipts;
}

/**
 * The admin's batch query of online states (the hosted service's, up to 500
 * users): `online` (a device holds the app open), `push` (none does, but a
 * device is reachable by Web Push), `offline`.
 */
export const OnlineState = z.enum(['online', 'push', 'offline']);
export type OnlineState = z.infer<typeof OnlineState>;
export const OnlineStatesBody = z.object({ users: z.array(UserId).min(1).max(500) });
export const OnlineStatesResult = z.object({ users: z.array(z.object({ user: UserId, state: OnlineState })) });
