/**
 * How long a document waits before asking the server again after a refusal
 * that holds only for now (too-many-sockets, too-many-docs: the account's
 * other tabs and devices hold too much open). The wait doubles from 5 s to
 * 5 minutes, jittered, so that the tabs of one account do not all come back
 * at once, and no refused socket reconnects in a tight loop.
 */
export const RETRY_FIRST_MS = 5000;
export const RETRY_MAX_MS = 5 * 60_000;

/** The wait before attempt `attempt` (0 for the first retry); `random` in [0, 1). */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt, 30));
  // Between half the ceiling and the ceiling.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
