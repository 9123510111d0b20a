/**
 * The background sync of changed conversations: when the inbox says a
 * conversation moved beyond what the device holds (or a read marker is ahead
 * of its read receipt), the conversation's newest segment is synced,
 * materialised and closed again, a few at a time, the most recently active
 * first, so that conversations read offline without being opened.
 */
import { conversationId, conversationPath } from '@parley/protocol';
import { db } from '../db.ts';
import { laggingReads } from './prefs.ts';

/** Segments synced in the background at once. */
const CONCURRENCY = 3;
/** Changes that come together are checked together. */
const CHECK_AFTER_MS = 250;

export interface BackgroundHooks {
  me: string;
  /** Syncs and materialises one segment document, then lets it close. */
  sync: (path: string) => Promise<void>;
  /** Segments were queued, started or finished: read `busy`. */
  changed: () => void;
  /** Whether to start more (online, signed in). */
  active: () => boolean;
  error: (error: unknown) => void;
}

export class BackgroundSync {
  readonly #hooks: BackgroundHooks;
  #queue: string[] = [];
  #running = 0;
  /** Attempts by path, with the lastSeq (or read marker) they aimed for: not retried for the same. */
  readonly #attempted = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(hooks: BackgroundHooks) {
    this.#hooks = hooks;
  }

  get busy(): boolean {
    return this.#queue.length + this.#running > 0;
  }

  /** Checks the inbox a moment from now (changes that come together are checked once). */
  schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check().catch(this.#hooks.error), CHECK_AFTER_MS);
  }

  /** Syncs that could not finish (offline) are tried again. */
  retryAll(): void {
    this.#attempted.clear();
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#queue = [];
  }

  /** Queues the newest segment of every conversation whose lastSeq is beyond what this device holds. */
  async #check(): Promise<void> {
    if (!this.#hooks.active()) return;
    const { me } = this.#hooks;
    // The most recently active first: their newest segments are prefetched before the rest.
    const rows = (await db.conversations.toArray()).sort((x, y) => y.updatedAt - x.updatedAt);
    for (const row of rows) {
      const conv = conversationId(me, row.peer);
      // A row the service worker wrote from a push is not synced: the segment is still fetched.
      const newest = await db.messages
        .where('[conv+seq]')
        .between([conv, 0], [conv, Infinity])
        .reverse()
        .filter((m) => m.pushed !== true)
        .first();
      if ((newest?.seq ?? 0) >= row.lastSeq) continue;
      this.#enqueue(conversationPath(me, row.peer, row.segment), row.lastSeq);
    }
    // A read marker (prefs) ahead of the conversation's read receipt: syncing the segment writes the receipt.
    const segmentOfPeer = new Map(rows.map((r) => [r.peer, r.segment]));
    for (const lag of await laggingReads(me)) {
      const segment = segmentOfPeer.get(lag.peer);
      if (segment === undefined) continue;
      this.#enqueue(conversationPath(me, lag.peer, segment), lag.seq, '|read');
    }
    this.#pump();
  }

  #enqueue(path: string, aim: number, reason = ''): void {
    const key = `${path}${reason}`;
    if (this.#attempted.get(key) === aim || this.#queue.includes(path)) return;
    this.#attempted.set(key, aim);
    this.#queue.push(path);
  }

  #pump(): void {
    this.#hooks.changed();
    while (this.#running < CONCURRENCY && this.#queue.length > 0 && this.#hooks.active()) {
      const path = this.#queue.shift() as string;
      this.#running++;
      void this.#hooks
        .sync(path)
        .catch(this.#hooks.error)
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }
}
