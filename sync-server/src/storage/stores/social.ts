/** Relations between users (friends, blocks, friend requests) and the install-wide settings. */

/**
 * One directed relation: `owner`'s friend list holds `other`, `owner` blocked
 * `other`, or `owner` asked `other` to be friends (with a note).
 */
export type RelationKind = 'friend' | 'block' | 'request';
export interface RelationRow {
  owner: string;
  kind: RelationKind;
  other: string;
  note: string | null;
  /** ms since the epoch */
  created: number;
}
export type RelationChange = { op: 'put'; row: RelationRow } | { op: 'delete'; owner: string; kind: RelationKind; other: string };

/**
 * An invite link (`/invite/<token>`): its owner, when it stops working, and
 * the SHA-256 (hex) of its token; the token itself is never stored, so a
 * copy of the database holds no working link. Revoking deletes the row.
 */
export interface InviteRow {
  /** Random; names the invite in its owner's list (revoke) without being its secret. */
  id: string;
  owner: string;
  tokenHash: string;
  /** ms since the epoch */
  created: number;
  /** ms since the epoch */
  expires: number;
}

export interface SocialStore {
  /** `user`'s own relations, and the friend requests others sent to `user`. */
  relationsOf(user: string): Promise<RelationRow[]>;
  /** Applies the changes in one durable transaction, in order. */
  changeRelations(changes: readonly RelationChange[]): Promise<void>;
  /** Install-wide settings as stored (JSON values by key). */
  settings(): Promise<Record<string, unknown>>;
  putSetting(key: string, value: unknown): Promise<void>;
  putInvite(invite: InviteRow): Promise<void>;
  /** The invite whose token hashes to `tokenHash`, expired or not. */
  inviteByHash(tokenHash: string): Promise<InviteRow | undefined>;
  /** `owner`'s invites, expired ones too, oldest first. */
  invitesOf(owner: string): Promise<InviteRow[]>;
  /** Deletes those of `ids` that are `owner`'s; how many it deleted. */
  deleteInvites(owner: string, ids: readonly string[]): Promise<number>;
}
