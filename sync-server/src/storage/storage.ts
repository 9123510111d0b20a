/**
 * The one storage interface of the sync server. SQLite is the default backend;
 * memory is its twin for unit tests; both pass `contract.test.ts`. Everything a
 * caller needs is here and nothing else: documents are an append-only update
 * log plus one snapshot, written only through `commit` (one transaction per
 * call, so a group commit is one call).
 */

import type { MediaKind } from '@parley/protocol';

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

/**
 * A device's sign-in (auth/sessions.ts). Access tokens name it (`sid`); its
 * refresh token is stored only as a hash. Revoking it deletes the row.
 */
export interface SessionRecord {
  /** Random, never chosen by a client. */
  id: string;
  user: string;
  device: string;
  /** A short name for the user's list of devices, from the User-Agent of the sign-in. */
  label: string;
  /** ms since the epoch */
  created: number;
  /** ms since the epoch; coarse (written at most about once a minute). */
  lastUsed: number;
  /** SHA-256 (hex) of the current refresh token. */
  refreshHash: string;
}

export type UserPatch = { nickname?: string | undefined; avatar?: string | undefined; passwordHash?: string | undefined };

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
  | { kind: 'message'; conversation: string; seq: number; id: string; from: string; ts: number; segment: string }
  /**
   * An accepted message references media: both members may read it from now
   * on if `from` may (else the reference waits until `from` uploads it).
   */
  | { kind: 'media-ref'; hash: string; conversation: string; from: string }
  /**
   * A recall took the conversation's last message referencing the media: its
   * members may no longer read it through this conversation (an uploader
   * still may, as uploader), and a reference waiting for the upload goes too.
   */
  | { kind: 'media-unref'; hash: string; conversation: string };

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

/** A device's Web Push subscription: one per (user, device). */
export interface PushSubscriptionRecord {
  user: string;
  device: string;
  endpoint: string;
  /** The browser's P-256 public key and auth secret, base64url. */
  p256dh: string;
  auth: string;
  /** false: pushes to this device carry no message text. */
  previews: boolean;
  /** ms since the epoch */
  updated: number;
}

/** A push waiting to go out to one device; kept until sent or given up, so a restart resumes it. */
export interface QueuedPush {
  id: number;
  user: string;
  device: string;
  /** The PushPayload JSON with every field; the device's preview setting and the size limit are applied when sending. */
  payload: string;
  urgency: 'high' | 'normal';
  topic: string;
  /** ms since the epoch: when it was queued (its TTL counts from here). */
  created: number;
  /** Attempts the push service put off (429/5xx) so far. */
  attempts: number;
  /** ms since the epoch: not sent before. */
  due: number;
}

/** An upload in progress; its bytes wait in <data>/uploads/<id> until it completes. */
export interface UploadRecord {
  /** Random, and the temp file's name: never anything the user chose. */
  id: string;
  user: string;
  device: string;
  kind: MediaKind;
  /** The other member of the conversation the media is for. */
  peer: string;
  /** Declared size, bytes. */
  size: number;
  mime: string;
  /** Declared SHA-256 (hex), checked on completion. */
  sha256: string;
  /** The name the file had on the uploader's device; never part of a path. */
  name: string | null;
  /** Bytes stored so far. */
  received: number;
  /** ms since the epoch */
  created: number;
  /** ms since the epoch: when bytes last arrived (its creation until then); an upload idle too long expires. */
  written: number;
}

/** Stored media, by content: the bytes are the file named by `hash` in the media store. */
export interface MediaRecord {
  hash: string;
  size: number;
  mime: string;
  /** The kind and name of its first upload (served as an attachment when a file). */
  kind: MediaKind;
  name: string | null;
  /** ms since the epoch */
  created: number;
}

export interface Storage {
  loadDoc(doc: string): Promise<StoredDoc>;
  /**
   * Applies every write in one durable transaction. Resolves with, for each
   * write, the row id of an `update` write (0 for other kinds).
   */
  commit(writes: readonly Write[]): Promise<number[]>;
  /**
   * One small real write transaction, through the same path as `commit`:
   * resolves once the storage can commit again (after a commit failed for
   * want of space or of a working disk), rejects with the storage's error
   * while it cannot (storage/health.ts probes with it).
   */
  probe(): Promise<void>;
  /**
   * Replaces the document's snapshot by `snapshot`, which holds every log row
   * with id <= upto, and deletes those rows, in one transaction. A snapshot
   * older than the stored one is ignored.
   */
  compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void>;
  /**
   * Erasure (a recall): compacts each document as `compact` does, in one
   * transaction, and then leaves none of the deleted bytes anywhere in
   * storage (SQLite: freed space is zeroed, `secure_delete`, and the
   * write-ahead log is checkpointed and truncated). Each snapshot must be of
   * a garbage-collected document, so that it holds no deleted content itself.
   */
  erase(docs: readonly DocSnapshot[]): Promise<void>;
  /** Log rows not yet compacted. */
  logLength(doc: string): Promise<number>;

  lastSeq(conversation: string): Promise<number>;
  /** Messages in a conversation written by `from` with a sequence above `seq`. */
  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number>;
  /** The peers `user` has a conversation with. */
  peersOf(user: string): Promise<string[]>;

  /** false when the id is taken, in any ASCII case: ids are unique regardless of case (`Bob` is taken when `bob` exists). */
  createUser(user: UserRecord): Promise<boolean>;
  /** The user with exactly this id. */
  getUser(id: string): Promise<UserRecord | undefined>;
  /**
   * The user whose id is `id` regardless of ASCII case (sign-in); the exact
   * id first, for a database from before ids were unique regardless of case.
   */
  findUser(id: string): Promise<UserRecord | undefined>;
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined>;

  /** Every session (loaded once at start: the server keeps the live ids in memory). */
  sessions(): Promise<SessionRecord[]>;
  sessionsOf(user: string): Promise<SessionRecord[]>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  putSession(session: SessionRecord): Promise<void>;
  /**
   * Replaces the refresh hash of session `id` only while it is still
   * `expected` (so one refresh token rotates once, however many requests
   * race with it); true when it did.
   */
  rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean>;
  touchSession(id: string, lastUsed: number): Promise<void>;
  deleteSessions(ids: readonly string[]): Promise<void>;

  /** `user`'s own relations, and the friend requests others sent to `user`. */
  relationsOf(user: string): Promise<RelationRow[]>;
  /** Applies the changes in one durable transaction, in order. */
  changeRelations(changes: readonly RelationChange[]): Promise<void>;
  /** Install-wide settings as stored (JSON values by key). */
  settings(): Promise<Record<string, unknown>>;
  putSetting(key: string, value: unknown): Promise<void>;
  /** The month segments of a conversation that hold messages, oldest first (kept per segment as messages are indexed: no scan). */
  segmentsOf(conversation: string): Promise<SegmentRow[]>;
  /** The accepted messages of a conversation with `ts` in [from, to], by sequence after `afterSeq`, at most `limit`. */
  messagesOf(conversation: string, range: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]>;

  /**
   * Creates or replaces the subscription of (user, device). Any other
   * (user, device) holding the same endpoint loses it: an endpoint is one
   * browser, and its newest sign-in owns it.
   */
  putPushSubscription(subscription: PushSubscriptionRecord): Promise<void>;
  /** Deletes the subscription of (user, device), only while its endpoint is `endpoint` when given; true if one was deleted. */
  deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean>;
  pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]>;
  /** Queues pushes in one durable transaction; resolves with their ids, in order. */
  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): Promise<number[]>;
  /** Every queued push, oldest first. */
  queuedPushes(): Promise<QueuedPush[]>;
  /** Puts a push off after an attempt the push service refused for now. */
  retryPush(id: number, attempts: number, due: number): Promise<void>;
  /** Removes pushes from the queue (sent, or given up). */
  dropPushes(ids: readonly number[]): Promise<void>;

  /** Creates an upload (or replaces the one with its id). */
  putUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** Every upload in progress (they are few: completed, cancelled or expired ones are deleted). */
  uploads(): Promise<UploadRecord[]>;
  /** `user`'s uploads in progress, oldest first (few: their number is capped). */
  uploadsOf(user: string): Promise<UploadRecord[]>;
  /** Records that the upload holds `received` bytes, the last of them written at `written` (ms since the epoch). */
  setUploadReceived(id: string, received: number, written: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /**
   * In one durable transaction: records `media` (a hash stored already keeps
   * its first record), gives `uploader` access to it, lets the references
   * `uploader`'s messages made before they could read it through (see the
   * `media-ref` write), and deletes the upload `uploadId` if given.
   */
  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void>;
  getMedia(hash: string): Promise<MediaRecord | undefined>;
  /** Whether `user` uploaded `hash` or is a member of a conversation with a message that references it. */
  mayReadMedia(hash: string, user: string): Promise<boolean>;
  /** Whether some user's avatar is `url` (`/api/v1/media/<hash>`): avatars are readable by anyone signed in. */
  isAvatar(url: string): Promise<boolean>;
  /** Whether `user` is one of the uploaders of `hash` (it counts against their quota already). */
  hasUploaded(hash: string, user: string): Promise<boolean>;
  /** The bytes of the media `user` uploaded, each hash once: what their quota holds. */
  uploadedBytes(user: string): Promise<number>;

  close(): Promise<void>;
  /**
   * Settles, now, the requests that have finished elsewhere (a backend whose
   * work runs on another thread), instead of on a later turn of the event
   * loop; optional, and cheap enough to call for every write.
   */
  poll?(): void;
}

/** A document's snapshot covering its log rows up to `upto` (see `compact`). */
export interface DocSnapshot {
  doc: string;
  snapshot: Uint8Array;
  upto: number;
}

/** One segment of a conversation in the message index. */
export interface SegmentRow {
  segment: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
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
