/**
 * Control frames and the outbox's documents. `ack` empties the outbox of
 * what it covers; `reject` fails the refused writes and resets the document
 * (see SyncedDoc.reset), except `slow-down`, after which they stay pending and
 * the document's writes wait (slowDown.ts) and then go again by themselves;
 * `refused` with an expired token refreshes it and reconnects; too-many-sockets
 * and too-many-docs (the account holds too much open on other tabs and
 * devices) try again later, backing off; storage-full, storage-unavailable and
 * internal on an open socket (the server dropped its copy after a write it
 * could not store) reconnect by themselves and sync again; other refusals stop.
 *
 * A segment with writes waiting is held open (hold `outbox`) until the outbox
 * has none for it; each time it loads or syncs, the outbox re-applies what its
 * copy lacks (outbox.ts).
 */
import { RESYNC_REFUSALS, type ControlFrame, type ErrorCode } from '@parley/protocol';
import type { Documents } from './docs.ts';
import { acknowledge, failMessages, holdsOpen, pendingPaths, reapply, reject } from './outbox.ts';
import { SlowDown } from './slowDown.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export interface ControlContext {
  me: string;
  docs: Documents;
  /** The server said the token expired: refresh it. */
  tokenExpired: () => Promise<void>;
  /** After a token refresh: every document connects again. */
  reconnect: () => void;
  refused: (path: string, code: ErrorCode) => void;
  error: (e: unknown) => void;
}

export class Control {
  readonly #ctx: ControlContext;
  /** Documents whose writes wait after a `slow-down`. */
  readonly #slow = new SlowDown();
  readonly #slowTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #tokenRefreshing = false;

  constructor(ctx: ControlContext) {
    this.#ctx = ctx;
  }

  stop(): void {
    for (const timer of this.#slowTimers.values()) clearTimeout(timer);
    this.#slowTimers.clear();
  }

  /** At start: open every segment with writes waiting, and re-apply what its copy lacks. */
  async resume(): Promise<void> {
    for (const path of await pendingPaths()) {
      const entry = this.#ctx.docs.acquire(path, 'outbox');
      await entry.synced.ready;
      // Online, the copy first syncs (the hub's onSynced reconciles): the server may hold what this copy lost.
      if (!navigator.onLine) await this.reconcile(entry.synced);
    }
  }

  /** Writes the outbox entries of a segment that its document lacks (a media message whose uploads just finished). */
  async flush(path: string): Promise<void> {
    const entry = this.#ctx.docs.acquire(path, 'outbox');
    await entry.synced.ready;
    await this.reconcile(entry.synced);
  }

  /** Whether writes to `path` wait after a `slow-down` (the outbox keeps them; they go when the wait ends). */
  isWaiting(path: string): boolean {
    return this.#slow.waitOf(path) > 0;
  }

  /** The person asked to send now: the wait after a `slow-down` ends, and the writes go. */
  async sendNow(path: string): Promise<void> {
    this.#slow.clear(path);
    clearTimeout(this.#slowTimers.get(path));
    this.#slowTimers.delete(path);
    await this.flush(path);
  }

  async reconcile(sd: SyncedDoc): Promise<void> {
    // After a slow-down the writes wait; the timer reconciles when the wait is over.
    if (this.#slow.waitOf(sd.path) > 0) return;
    await reapply(sd, this.#ctx.me);
    if (!(await holdsOpen(sd.path))) this.#ctx.docs.release(sd.path, 'outbox');
  }

  /** After a `slow-down`: the document's writes wait, then the outbox is reconciled again (once synced; onSynced does it otherwise). */
  #waitThenResend(path: string, retryAfterMs: number | undefined): void {
    const wait = this.#slow.refused(path, retryAfterMs);
    clearTimeout(this.#slowTimers.get(path));
    this.#slowTimers.set(
      path,
      setTimeout(() => {
        this.#slowTimers.delete(path);
        const entry = this.#ctx.docs.get(path);
        if (entry !== undefined && entry.synced.synced) void this.reconcile(entry.synced).catch(this.#ctx.error);
      }, wait),
    );
  }

  async handle(frame: Extract<ControlFrame, { type: 'ack' | 'reject' | 'refused' }>, sd: SyncedDoc): Promise<void> {
    // The copy that sent what this frame answers, read before anything awaits (a reset replaces it).
    const copy = sd.doc;
    switch (frame.type) {
      case 'ack': {
        // Actions are judged against the copy that sent the update: read it now, before anything awaits.
        const acked = acknowledge(sd, frame);
        this.#slow.clear(sd.path);
        await acked;
        if (!(await holdsOpen(sd.path))) this.#ctx.docs.release(sd.path, 'outbox');
        return;
      }
      case 'reject': {
        await reject(sd.path, frame, this.#ctx.error);
        // Not a failure: the writes stay pending, shown as "slow down", and go again after the wait.
        if (frame.code === 'slow-down') this.#waitThenResend(sd.path, frame.retryAfterMs);
        // Nothing of the update was applied: this copy is ahead of the server under
        // its client id. Start over from the server's copy; onSynced re-applies the rest.
        // Once per copy, however many of its pieces were refused.
        await sd.reset(copy);
        return;
      }
      case 'refused': {
        if (frame.code === 'token-expired') {
          // The server closes this socket next (4401), after which y-websocket stops: dropped now, so that the
          // reconnect below opens a new one with the fresh token even when the refresh ends before that close.
          sd.disconnect();
          // Refused while a refresh is under way (every socket after a device wakes): its reconnect takes this one too.
          if (this.#tokenRefreshing) return;
          this.#tokenRefreshing = true;
          try {
            await this.#ctx.tokenExpired();
          } finally {
            this.#tokenRefreshing = false;
          }
          this.#ctx.reconnect();
          return;
        }
        if (frame.code === 'too-many-sockets' || frame.code === 'too-many-docs') {
          // For now only: other tabs and devices will close theirs. Said once per streak of refusals.
          if (sd.retryLater()) this.#ctx.refused(sd.path, frame.code);
          return;
        }
        if (RESYNC_REFUSALS.includes(frame.code)) {
          // The server dropped its copy of the document (a write it could not store): the socket closes with
          // 4503 and y-websocket reconnects, backing off; this copy syncs again and re-sends what the server
          // lacks. Messages refused meanwhile show as not sent, with the reason, and Retry (see `reject`).
          return;
        }
        if (frame.code === 'rate-limited') {
          // Too many connections in a short time: this one tries again when the server says, not never.
          sd.disconnect();
          setTimeout(() => sd.connect(), (frame.retryAfter ?? 5) * 1000);
          return;
        }
        sd.refused = true;
        // Written offline to an id nobody holds: the messages can never go, so they show as failed (the user may delete them).
        if (frame.code === 'user-not-found') await failMessages(sd.path, frame.code);
        this.#ctx.refused(sd.path, frame.code);
        return;
      }
    }
  }
}
