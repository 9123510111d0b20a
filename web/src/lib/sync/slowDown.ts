/**
 * When a document's writes may go out again after the server said
 * `slow-down` (too many messages, edits, reactions or actions at once: the
 * per-user rate of sync-server/src/sync/write-rate.ts). The writes stay
 * pending in their outboxes; the hub holds the document's writes back until
 * the wait is over, then writes them again by itself. The wait is the
 * server's `retryAfterMs` when it gives one, else a backoff that doubles from
 * 1 s; each consecutive refusal doubles it (up to 30 s), and an ack ends it.
 */
export const FIRST_WAIT_MS = 1000;
export const LONGEST_WAIT_MS = 30_000;

export class SlowDown {
  readonly #until = new Map<string, number>();
  readonly #refusals = new Map<string, number>();

  /** Records a `slow-down` for `path`; returns how long to wait. */
  refused(path: string, retryAfterMs: number | undefined, now = Date.now()): number {
    const refusals = (this.#refusals.get(path) ?? 0) + 1;
    this.#refusals.set(path, refusals);
    const backoff = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (refusals - 1));
    // The server's hint is when a token is back; after repeated refusals wait longer than that.
    const wait = Math.min(LONGEST_WAIT_MS, Math.max(retryAfterMs ?? 0, refusals > 1 ? backoff : retryAfterMs === undefined ? backoff : 0));
    this.#until.set(path, now + wait);
    return wait;
  }

  /** How long writes to `path` still wait (0: they may go). */
  waitOf(path: string, now = Date.now()): number {
    const until = this.#until.get(path);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#until.delete(path);
      return 0;
    }
    return until - now;
  }

  /** The person asked to send now, or the server acknowledged a write: no more waiting. */
  clear(path: string): void {
    this.#until.delete(path);
    this.#refusals.delete(path);
  }
}
