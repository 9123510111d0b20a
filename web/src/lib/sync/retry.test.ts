import { describe, expect, it } from 'vitest';
import { RETRY_FIRST_MS, RETRY_MAX_MS, retryDelay } from './retry.ts';

describe('retryDelay', () => {
  it('waits at least a few seconds before the first retry', () => {
    expect(retryDelay(0, () => 0)).toBe(RETRY_FIRST_MS / 2);
    expect(retryDelay(0, () => 0.999)).toBeLessThanOrEqual(RETRY_FIRST_MS);
  });

  it('doubles the wait with each refusal in a row, up to five minutes', () => {
    const ceilings = Array.from({ length: 12 }, (_, i) => retryDelay(i, () => 0.999_999));
    for (let i = 1; i < ceilings.length; i++) expect(ceilings[i]).toBeGreaterThanOrEqual(ceilings[i - 1] ?? 0);
    expect(ceilings[1]).toBeCloseTo(2 * RETRY_FIRST_MS, -1);
    expect(ceilings.at(-1)).toBeCloseTo(RETRY_MAX_MS, -1);
    expect(retryDelay(1000, () => 0.999_999)).toBeLessThanOrEqual(RETRY_MAX_MS);
  });

  it('spreads the tabs of one account apart (jitter)', () => {
    expect(retryDelay(3, () => 0)).toBeLessThan(retryDelay(3, () => 0.9));
  });
});
