/**
 * The one storage interface of the sync server. SQLite is the default backend;
 * memory is its twin for unit tests; both pass `contract.test.ts`. Everything a
 * caller needs is here and nothing else: documents are an append-only update
 * log plus one snapshot, written only through `commit` (one transaction per
 * call, so a group commit is one call).
 */

export interface UserRecord {
  id: string;
  /** scrypt hash (see auth/passwords.ts); null for users created by an app token. */
  passwordHash: string | null;
  nickname: string;
  avatar: string | null;
  role: 'user' | 'admin';
  /** ms since the epoch */
  created: number;
}

export interface StoredUpdate {
  id: number;
  data: Uint8Array;
}

export interface StoredDoc {
  snapshot: Uint8Array | null;
  /** The log rows written after the snapshot, oldest first. */
  updates: StoredUpdate[];
  /** The newest row id the document holds (snapshot or log); 0 when none. */
  lastId: number;
}

export type Write =
  /** One accepted, merged Yjs update appended to a document's log. */
  | { kind: 'update'; doc: string; data: Uint8Array }
  /** The last sequence stamped in a conversation (`a/b`). */
  | { kind: 'last-seq'; conversation: string; seq: number }
  /** One accepted message, for counting and paging without loading documents. */
  | { kind: 'message'; conversation: string; seq: number; id: string; from: string; ts: number; segment: string };

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

export interface Storage {
  loadDoc(doc: string): Promise<StoredDoc>;
  /**
   * Applies every write in one durable transaction. Resolves with, for each
   * write, the row id of an `update` write (0 for other kinds).
   */
  commit(writes: readonly Write[]): Promise<number[]>;
  /**
   * Replaces the document's snapshot by `snapshot`, which holds every log row
   * with id <= upto, and deletes those rows, in one transaction. A snapshot
   * older than the stored one is ignored.
   */
  compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void>;
  /** Log rows not yet compacted. */
  logLength(doc: string): Promise<number>;

  lastSeq(conversation: string): Promise<number>;
  /** Messages in a conversation written by `from` with a sequence above `seq`. */
  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number>;
  /** The peers `user` has a conversation with. */
  peersOf(user: string): Promise<string[]>;

  /** false when the id is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  getUser(id: string): Promise<UserRecord | undefined>;
  updateUser(id: string, patch: { nickname?: string | undefined; avatar?: string | undefined }): Promise<UserRecord | undefined>;

  /** `user`'s own relations, and the friend requests others sent to `user`. */
  relationsOf(user: string): Promise<RelationRow[]>;
  /** Applies the changes in one durable transaction, in order. */
  changeRelations(changes: readonly RelationChange[]): Promise<void>;
  /** Install-wide settings as stored (JSON values by key). */
  settings(): Promise<Record<string, unknown>>;
  putSetting(key: string, value: unknown): Promise<void>;
  /** The accepted messages of a conversation with `ts` in [from, to], by sequence after `afterSeq`, at most `limit`. */
  messagesOf(conversation: string, range: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]>;

  close(): Promise<void>;
  /**
   * Settles, now, the requests that have finished elsewhere (a backend whose
   * work runs on another thread), instead of on a later turn of the event
   * loop; optional, and cheap enough to call for every write.
   */
  poll?(): void;
}

export interface IndexedMessage {
  seq: number;
  id: string;
  from: string;
  ts: number;
  segment: string;
}

/** The members of a conversation id `a/b`. */
export function membersOf(conversation: string): [string, string] {
  const [a = '', b = ''] = conversation.split('/');
  return [a, b];
}
