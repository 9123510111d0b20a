/**
 * Documents and their log: each document is an append-only log of Yjs
 * updates plus one snapshot, written only through `commit` (one transaction
 * per call, so a group commit is one call). A commit also carries the other
 * stores' share of an accepted message (its index row, its media
 * references), so that they are durable exactly when the update is.
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
   * Cluster: the commit holds writes of `doc` by its leader of `token`
   * (DocStore.lead): it fails whole, writing nothing (FencedError), when the
   * document has had a newer leader since. One process alone writes none.
   */
  | { kind: 'fence'; doc: string; token: number };

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
}

/**
 * A backend's store that owns some kinds of `Write` (the message index, media
 * references): the docs store hands it every commit's writes, inside the
 * commit's transaction, and it applies those of its kinds in order.
 */
export interface CommitPart {
  record(writes: readonly Write[]): void;
}
