/**
 * The differential fuzz of the validator against Yjs (differential.ts), a
 * short run: 10,000 cases of seed 1. `npm run fuzz:validator` runs 300,000.
 */
import { describe, expect, test } from 'vitest';
import { runFuzz } from './differential.ts';

describe('the validator against Yjs', () => {
  test('no update the validator accepts throws in Y.applyUpdate, leaves structs or deletions pending, or breaks what the validator promised (10,000 cases)', () => {
    const tally = runFuzz(1, 10_000, { keep: 3 });
    const replay = tally.failures.map((f) => `${f.kind} at seed ${f.seed} case ${f.index} (npm run fuzz:validator -- --seed ${f.seed} --case ${f.index}): ${f.detail}; ${f.steps.join('; ')}`);
    expect(replay).toEqual([]);
    expect(tally.byKind).toEqual({});
    // The cases reach the applying side: a fuzz whose every update is refused would prove nothing.
    expect(tally.accepted).toBeGreaterThan(500);
  }, 120_000);
});
