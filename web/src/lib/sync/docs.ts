/**
 * The documents the hub holds open, and why (a hold). A document opens on its
 * first hold and closes (its SyncedDoc destroyed) when its last is released.
 */
import { SyncedDoc, type SyncedDocHooks } from './syncedDoc.ts';

export type Hold = 'inbox' | 'prefs' | 'open' | 'outbox' | 'background' | 'history';

export interface Entry {
  synced: SyncedDoc;
  holds: Set<Hold>;
  /** The highest sequence of the peer's messages materialised from this segment. */
  maxPeerSeq: number;
  /** Pending materialisation writes, awaited before a background document closes. */
  writes: Promise<unknown>;
}

export interface DocumentsContext {
  wsBase: string;
  token: () => string;
  shouldConnect: () => boolean;
  hooks: SyncedDocHooks;
}

export class Documents {
  readonly #ctx: DocumentsContext;
  readonly #docs = new Map<string, Entry>();

  constructor(ctx: DocumentsContext) {
    this.#ctx = ctx;
  }

  get(path: string): Entry | undefined {
    return this.#docs.get(path);
  }

  /** Every held document (a copy of the list: holds may change while it is walked). */
  all(): [string, Entry][] {
    return [...this.#docs];
  }

  acquire(path: string, hold: Hold): Entry {
    let entry = this.#docs.get(path);
    if (entry === undefined) {
      const synced = new SyncedDoc({ path, wsBase: this.#ctx.wsBase, token: this.#ctx.token, shouldConnect: this.#ctx.shouldConnect, hooks: this.#ctx.hooks });
      entry = { synced, holds: new Set(), maxPeerSeq: 0, writes: Promise.resolve() };
      this.#docs.set(path, entry);
      synced.ready.catch(this.#ctx.hooks.error);
    }
    entry.holds.add(hold);
    return entry;
  }

  release(path: string, hold: Hold): void {
    const entry = this.#docs.get(path);
    if (entry === undefined) return;
    entry.holds.delete(hold);
    if (entry.holds.size === 0) {
      entry.synced.destroy();
      this.#docs.delete(path);
    }
  }

  connectAll(): void {
    for (const entry of this.#docs.values()) entry.synced.connect();
  }

  disconnectAll(): void {
    for (const entry of this.#docs.values()) entry.synced.disconnect();
  }

  destroy(): void {
    for (const entry of this.#docs.values()) entry.synced.destroy();
    this.#docs.clear();
  }
}
