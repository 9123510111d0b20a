/**
 * Which documents are in memory. `acquire` loads a document (snapshot + log
 * replay) or shares the loaded one; `release` lets go, and a document nobody
 * holds is unloaded after `unloadAfterMs`, compacting its log on the way out.
 * Compaction also runs in the background when a loaded document's log grows
 * past COMPACT_AFTER rows; it never runs on the accept path, and a snapshot
 * holding writes still in flight is stored only once they are durable (one
 * whose commit then failed would be stored anyway).
 *
 * `reset` drops a document that holds what storage does not (a failed
 * commit, a half-applied update) at once: no compaction, its connections
 * told and closed, and the next `acquire` loads it again from storage (after
 * its writes still in flight have settled).
 */
import * as Y from 'yjs';
import { parseDocPath, type DocPath, type ErrorCode } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Storage } from '../storage/storage.ts';
import { LiveDoc, type LiveDocEvents, type Replication } from './live-doc.ts';

/** Log rows after which a loaded document is compacted: loads stay fast, compaction stays rare. */
export const COMPACT_AFTER = 200;

export interface RegistryHooks {
  /** Runs before a loaded document is handed out (e.g. to load what it depends on). */
  loaded(live: LiveDoc): Promise<void>;
  unloaded(live: LiveDoc): void;
  /** A document holds what storage does not (LiveDocEvents.failed): the hook resets it, and what depends on it. */
  failed: LiveDocEvents['failed'];
}

/**
 * Where a document stands in a cluster (cluster/replicas.ts); a lone process
 * has none. `prepare` runs before the document is read from storage (it
 * listens for the document's updates first, so none falls between the read
 * and the first one heard, and a leader takes its lease first, so the read
 * holds every write of the leaders before it).
 */
export interface Placement {
  prepare(path: string, parsed: DocPath): Promise<Replication>;
  /** Loaded (after the hub's own `loaded` hook): what was heard meanwhile is applied, and a leader judges the writes forwarded to it meanwhile. */
  attached(live: LiveDoc): void;
  /** Out of memory, or never loaded after `prepare`: its writes are all settled (a leader lets go of the lease). */
  detached(path: string, replication: Replication): void;
}

export class DocRegistry {
  /** Set once, before the first document loads, in a cluster. */
  placement: Placement | null = null;
  private readonly docs = new Map<string, Promise<LiveDoc>>();
  private readonly live = new Set<LiveDoc>();
  /** Paths reset while writes of theirs were in flight: loaded again only once those settled (committed or failed). */
  private readonly draining = new Map<string, Promise<void>>();

  constructor(
    private readonly storage: Storage,
    private readonly commit: GroupCommit,
    private readonly unloadAfterMs: number,
    private readonly hooks: RegistryHooks,
    private readonly log: Log,
  ) {}

  async acquire(path: string): Promise<LiveDoc> {
    for (;;) {
      let loading = this.docs.get(path);
      if (loading === undefined) {
        loading = this.load(path);
        this.docs.set(path, loading);
        loading.catch(() => this.docs.delete(path));
      }
      const live = await loading;
      // Reset while it loaded (or while this caller waited): load it again.
      if (live.destroyed) {
        if (this.docs.get(path) === loading) this.docs.delete(path);
        continue;
      }
      live.refs++;
      clearTimeout(live.unloadTimer);
      live.unloadTimer = undefined;
      return live;
    }
  }

  /**
   * Drops `live` from memory now, after a failure (`code`): it holds what
   * storage does not. Nothing of it is compacted; each connection is told
   * (`code`) and closed, so its client syncs again; the next `acquire` loads
   * it from storage. Holders keep a destroyed document and let go of it as
   * usual.
   */
  reset(live: LiveDoc, code: ErrorCode): void {
    if (live.destroyed) return;
    if (this.live.delete(live)) this.docs.delete(live.path);
    if (live.pending > 0) {
      const settled = live.committed();
      this.draining.set(live.path, settled);
      void settled.then(() => {
        if (this.draining.get(live.path) === settled) this.draining.delete(live.path);
      });
    }
    for (const peer of [...live.connections]) peer.drop(code);
    live.destroy();
    this.hooks.unloaded(live);
    // A leader lets go only once its writes in flight have settled.
    if (live.pending > 0) void live.committed().then(() => this.detach(live));
    else this.detach(live);
    this.log.info({ doc: live.path, code, connections: live.connections.size }, 'document dropped from memory after a failure; it loads again from storage');
  }

  release(live: LiveDoc): void {
    live.refs--;
    if (live.refs > 0 || live.destroyed) return;
    clearTimeout(live.unloadTimer);
    live.unloadTimer = setTimeout(() => this.unload(live), this.unloadAfterMs);
    live.unloadTimer.unref();
  }

  /** Every document in memory now, those still loading included. */
  inMemory(): LiveDoc[] {
    return [...this.live];
  }

  /** Whether a document is in memory now (for tests and metrics). */
  isLoaded(path: string): boolean {
    return this.docs.has(path);
  }

  private async load(path: string): Promise<LiveDoc> {
    const parsed = parseDocPath(path);
    if (parsed === null) throw new Error(`not a document path: ${path}`);
    await this.draining.get(path);
    const placement = this.placement;
    const replication = placement === null ? null : await placement.prepare(path, parsed);
    let live: LiveDoc;
    try {
      const stored = await this.storage.loadDoc(path);
      live = new LiveDoc(path, parsed, stored, this.commit, this.log, {
        committed: (l) => this.maybeCompact(l),
        failed: (l, code) => this.hooks.failed(l, code),
      });
    } catch (error) {
      if (replication !== null) placement?.detached(path, replication);
      throw error;
    }
    live.replication = replication;
    this.live.add(live);
    try {
      await this.hooks.loaded(live);
    } catch (error) {
      this.live.delete(live);
      live.destroy();
      this.detach(live);
      throw error;
    }
    // Only now, with what `loaded` read in memory (a conversation's last sequence above all), does the placement
    // apply what it heard meanwhile and hand a leader the writes forwarded to it. A copy reset meanwhile is detached.
    if (!live.destroyed) placement?.attached(live);
    return live;
  }

  private unload(live: LiveDoc): void {
    if (live.refs > 0 || live.destroyed) return;
    if (live.pending > 0) {
      // Its last writes are not committed yet: a snapshot now could not say what it covers.
      live.unloadTimer = setTimeout(() => this.unload(live), 10);
      live.unloadTimer.unref();
      return;
    }
    this.docs.delete(live.path);
    this.live.delete(live);
    if (live.logLength > 0) this.compactNow(live);
    live.destroy();
    this.hooks.unloaded(live);
    this.detach(live);
    this.log.debug({ doc: live.path }, 'unloaded');
  }

  private detach(live: LiveDoc): void {
    if (live.replication !== null) this.placement?.detached(live.path, live.replication);
  }

  /** After a commit, in the background. */
  private maybeCompact(live: LiveDoc): void {
    if (live.logLength < COMPACT_AFTER) return;
    setImmediate(() => {
      if (!live.destroyed && live.logLength >= COMPACT_AFTER) this.compactNow(live);
    });
  }

  /**
   * The state in memory covers every committed row (id <= lastId) and the
   * writes in flight. With nothing in flight it is stored at once; otherwise
   * only once those writes are durable, claiming the rows up to theirs
   * (LiveDoc.durableThrough), and not at all if one fails: a snapshot that
   * held a write whose commit failed would store it anyway.
   */
  private compactNow(live: LiveDoc): void {
    // Tried again only after as many rows again (or at unload), not after every commit.
    live.logLength = 0;
    // In a cluster, a follower's leader compacts; a shared document's copy here may lack rows another process wrote.
    if (live.replication?.role === 'follower') return;
    if (live.replication?.role === 'shared') {
      this.fromStorage(live.path)
        .then(({ doc, snapshot, upto }) => this.storage.compact(doc, snapshot, upto))
        .catch((error: unknown) => this.log.error({ err: error, doc: live.path }, 'compaction failed'));
      return;
    }
    let snapshot: Uint8Array;
    try {
      snapshot = Y.encodeStateAsUpdate(live.doc);
    } catch (error) {
      // A document Yjs cannot encode (a client's delete set whose clocks leave the safe
      // integers: test/compaction-hostile.test.ts) keeps its log as it is. Compaction runs
      // in a timer, where a throw would end the process. lib0 throws one shared error
      // object whose stack says nothing, so the reason is logged without it.
      this.log.error({ doc: live.path, reason: error instanceof Error ? error.message : String(error) }, 'compaction failed');
      return;
    }
    const store = (upto: number): void => {
      this.storage.compact(live.path, snapshot, upto).catch((error: unknown) => this.log.error({ err: error, doc: live.path }, 'compaction failed'));
    };
    if (live.pending === 0) store(live.lastId);
    else live.durableThrough().then(store, () => this.log.debug({ doc: live.path }, 'compaction dropped: a write it held failed'));
  }

  /**
   * Erases what the documents no longer hold (a recall): once their queued
   * writes are committed, each is compacted from its in-memory state, which
   * Yjs has garbage-collected (deleted content is gone from it), and storage
   * drops the replaced rows for good (Storage.erase).
   */
  async erase(lives: readonly LiveDoc[]): Promise<void> {
    // Encoded now, stored once what they hold is durable (see compactNow); a write that fails meanwhile fails the erasure.
    const docs = await Promise.all(
      lives
        .filter((live) => !live.destroyed)
        .map(async (live) => {
          live.logLength = 0;
          // In a cluster, a copy here may lack rows another process wrote: the erasure is of what storage holds.
          if (live.replication !== null && live.replication.role !== 'leader') {
            await live.durableThrough();
            return this.fromStorage(live.path);
          }
          const snapshot = Y.encodeStateAsUpdate(live.doc);
          return { doc: live.path, snapshot, upto: await live.durableThrough() };
        }),
    );
    if (docs.length > 0) await this.storage.erase(docs);
  }

  /**
   * A document as storage holds it now, garbage-collected, and the newest row
   * it covers. Rows of one document become visible in id order (the
   * PostgreSQL backend commits a document's rows under a lock of it), so the
   * rows up to that id are exactly those read.
   */
  private async fromStorage(path: string): Promise<{ doc: string; snapshot: Uint8Array; upto: number }> {
    const stored = await this.storage.loadDoc(path);
    const doc = new Y.Doc();
    try {
      Y.transact(doc, () => {
        if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot);
        for (const u of stored.updates) Y.applyUpdate(doc, u.data);
      });
      return { doc: path, snapshot: Y.encodeStateAsUpdate(doc), upto: stored.lastId };
    } finally {
      doc.destroy();
    }
  }

  /** Unloads everything now (shutdown): compacts what has a log. */
  async closeAll(): Promise<void> {
    await this.commit.idle();
    for (const live of [...this.live]) {
      this.docs.delete(live.path);
      this.live.delete(live);
      if (live.logLength > 0) this.compactNow(live);
      live.destroy();
      this.detach(live);
    }
  }
}
