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

export interface SocialStore {
  /** `user`'s own relations, and the friend requests others sent to `user`. */
  relationsOf(user: string): Promise<RelationRow[]>;
  /** Applies the changes in one durable transaction, in order. */
  changeRelations(changes: readonly RelationChange[]): Promise<void>;
  /** Install-wide settings as stored (JSON values by key). */
  settings(): Promise<Record<string, unknown>>;
  putSetting(key: string, value: unknown): Promise<void>;
}
