import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_MS, retryAfterMs, retryDelay } from './backoff.ts';

describe('push retry backoff', () => {
  it('doubles from the base per attempt, up to a ceiling', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, undefined))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(30, 1000, undefined)).toBe(MAX_BACKOFF_MS);
  });

  it('waits at least what Retry-After asks', () => {
    expect(retryDelay(1, 1000, 120_000)).toBe(120_000);
    expect(retryDelay(3, 1000, 0)).toBe(4000);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
