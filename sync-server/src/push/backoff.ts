/**
 * When to try again a push the push service put off (429, 5xx, or no answer):
 * exponential from a configured base, never sooner than its Retry-After, and
 * not forever.
 */

/** Attempts before a push is given up: with a 1 s base, about 17 minutes of trying. */
export const MAX_ATTEMPTS = 10;
/** The longest wait between two attempts, whatever the count. */
export const MAX_BACKOFF_MS = 15 * 60_000;

/** A Retry-After header (seconds, or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  const value = header?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait after the `attempts`-th put-off attempt (1 for the first): base, 2·base, 4·base… or Retry-After if longer. */
export function retryDelay(attempts: number, baseMs: number, retryAfter: number | undefined): number {
  const backoff = Math.min(baseMs * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  return Math.max(backoff, retryAfter ?? 0);
}
