/**
 * Documents and their log: each document is an append-only log of Yjs
 * updates plus one snapshot, written only through `commit` (one transaction
 * per call, so a group commit is one call). A commit also carries the other
 * stores' share of an accepted message (its index row, its media
 * references, its after-send callback), so that they are durable exactly when the update is.
 *
 * In a cluster each document has one authority at a time (`lead`), and its
 * commits carry a `fence` write: a backend shared by several processes
 * refuses a commit whose token is stale, so a process that lost a document
 * can never write to it.
 */

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

/** A document's snapshot covering its log rows up to `upto` (see `compact`). */
export interface DocSnapshot {
  doc: string;
  snapshot: Uint8Array;
  upto: number;
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
  | { kind: 'media-unref'; hash: string; conversation: string }
  /**
   * An accepted message's after-send callback to the app backend, queued
   * (unclaimed, due at once) so that it is exactly as durable as the message
   * (stores/callbacks.ts).
   */
  | { kind: 'callback'; conversation: string; msg: string; payload: string; due: number }
  /**
   * The commit is valid only while `doc`'s authority token is still `token`
   * (see `lead`): a backend shared by several processes checks it inside the
   * commit's transaction and fails the whole commit with a FencedError when
   * another process has taken the document since. A single-process backend
   * (memory, SQLite) has no other writer and ignores it.
   */
  | { kind: 'fence'; doc: string; token: number };

/**
 * A commit refused whole because it carried a fence whose token is no longer
 * its document's (another process leads it now): nothing of it was written.
 */
export class FencedError extends Error {
  constructor(
    readonly doc: string,
    readonly token: number,
  ) {
    super(`storage: ${doc} is no longer led with token ${token}; the commit was refused and nothing was written`);
    this.name = 'FencedError';
  }
}

/** Who leads a document now, and the fencing token its commits carry. */
export interface DocLeader {
  node: string;
  token: number;
}

export interface DocStore {
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
  /**
   * Makes `node` the authority of `doc`: a new token, greater than every one
   * handed out for it before, that its commits carry in a `fence` write;
   * commits fenced with an older token fail from now on.
   */
  lead(doc: string, node: string): Promise<number>;
  /** The authority of `doc` as last taken with `lead`; null when none ever was. */
  leaderOf(doc: string): Promise<DocLeader | null>;
}

/**
 * A backend's store that owns some kinds of `Write` (the message index, media
 * references): the docs store hands it every commit's writes, inside the
 * commit's transaction, and it applies those of its kinds in order.
 */
export interface CommitPart {
  record(writes: readonly Write[]): void;
}
