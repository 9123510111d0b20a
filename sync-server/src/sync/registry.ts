/**
 * Which documents are in memory. `acquire` loads a document (snapshot + log
 * replay) or shares the loaded one; `release` lets go, and a document nobody
 * holds is unloaded after `unloadAfterMs`, compacting its log on the way out.
 * Compaction also runs in the background when a loaded document's log grows
 * past COMPACT_AFTER rows; it never runs on the accept path.
 */
import * as Y from 'yjs';
import { parseDocPath } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Storage } from '../storage/storage.ts';
import { LiveDoc } from './live-doc.ts';

/** Log rows after which a loaded document is compacted: loads stay fast, compaction stays rare. */
export const COMPACT_AFTER = 200;

export interface RegistryHooks {
  /** Runs before a loaded document is handed out (e.g. to load what it depends on). */
  loaded(live: LiveDoc): Promise<void>;
  unloaded(live: LiveDoc): void;
}

export class DocRegistry {
  private readonly docs = new Map<string, Promise<LiveDoc>>();
  private readonly live = new Set<LiveDoc>();

  constructor(
    private readonly storage: Storage,
    private readonly commit: GroupCommit,
    private readonly unloadAfterMs: number,
    private readonly hooks: RegistryHooks,
    private readonly log: Log,
  ) {}

  async acquire(path: string): Promise<LiveDoc> {
    let loading = this.docs.get(path);
    if (loading === undefined) {
      loading = this.load(path);
      this.docs.set(path, loading);
      loading.catch(() => this.docs.delete(path));
    }
    const live = await loading;
    live.refs++;
    clearTimeout(live.unloadTimer);
    live.unloadTimer = undefined;
    return live;
  }

  release(live: LiveDoc): void {
    live.refs--;
    if (live.refs > 0 || live.destroyed) return;
    clearTimeout(live.unloadTimer);
    live.unloadTimer = setTimeout(() => this.unload(live), this.unloadAfterMs);
    live.unloadTimer.unref();
  }

  /** Whether a document is in memory now (for tests and metrics). */
  isLoaded(path: string): boolean {
    return this.docs.has(path);
  }

  private async load(path: string): Promise<LiveDoc> {
    const parsed = parseDocPath(path);
    if (parsed === null) throw new Error(`not a document path: ${path}`);
    const stored = await this.storage.loadDoc(path);
    const live = new LiveDoc(path, parsed, stored, this.commit, this.log, (l) => this.maybeCompact(l));
    this.live.add(live);
    try {
      await this.hooks.loaded(live);
    } catch (error) {
      this.live.delete(live);
      live.destroy();
      throw error;
    }
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
    this.log.debug({ doc: live.path }, 'unloaded');
  }

  private maybeCompact(live: LiveDoc): void {
    if (live.logLength < COMPACT_AFTER) return;
    setImmediate(() => {
      if (!live.destroyed && live.logLength >= COMPACT_AFTER) this.compactNow(live);
    });
  }

  /**
   * Every committed row (id <= lastId) is applied in memory, so the encoded
   * state covers them all; a write applied but not yet committed may be in the
   * snapshot too, which is harmless (its row replays as a no-op).
   */
  private compactNow(live: LiveDoc): void {
    const upto = live.lastId;
    // Tried again only after as many rows again (or at unload), not after every commit.
    live.logLength = 0;
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
    this.storage.compact(live.path, snapshot, upto).catch((error: unknown) => this.log.error({ err: error, doc: live.path }, 'compaction failed'));
  }

  /**
   * Erases what the documents no longer hold (a recall): once their queued
   * writes are committed, each is compacted from its in-memory state, which
   * Yjs has garbage-collected (deleted content is gone from it), and storage
   * drops the replaced rows for good (Storage.erase).
   */
  async erase(lives: readonly LiveDoc[]): Promise<void> {
    await Promise.all(lives.map((live) => live.committed()));
    const docs = lives
      .filter((live) => !live.destroyed)
      .map((live) => {
        live.logLength = 0;
        return { doc: live.path, snapshot: Y.encodeStateAsUpdate(live.doc), upto: live.lastId };
      });
    if (docs.length > 0) await this.storage.erase(docs);
  }

  /** Unloads everything now (shutdown): compacts what has a log. */
  async closeAll(): Promise<void> {
    await this.commit.idle();
    for (const live of [...this.live]) {
      this.docs.delete(live.path);
      this.live.delete(live);
      if (live.logLength > 0) this.compactNow(live);
      live.destroy();
    }
  }
}
