/**
 * Rate limits across the processes of a cluster, on a real Redis: the
 * account and socket limits counted once for all processes, and the per-user
 * write rate shared within its documented bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SHARE_EVERY_MS, SharedWriteRate } from '../src/cluster/write-rate.ts';
import { loadConfig } from '../src/config.ts';
import { RateLimited, RateLimits } from '../src/http/rate-limits.ts';
import { cleanup, tempDir } from './helpers.ts';
import { buses, closeBuses } from './redis-bus.ts';
import { redisUrl } from './services.ts';

const rates: SharedWriteRate[] = [];

afterEach(async () => {
  for (const rate of rates.splice(0)) rate.close();
  await closeBuses();
  await cleanup();
});

/** Two processes' limits on one Redis, with small allowances. */
async function twoProcesses(): Promise<[RateLimits, RateLimits]> {
  const config = loadConfig({
    PARLEY_DATA_DIR: tempDir(),
    PARLEY_SIGNUPS_PER_ADDRESS: '3',
    PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '2',
    PARLEY_SOCKET_UPGRADES_PER_USER: '4',
  });
  const [a, b] = await buses(2);
  if (a === undefined || b === undefined) throw new Error('two buses');
  return [new RateLimits(config, a), new RateLimits(config, b)];
}

const refused = (attempt: Promise<unknown>): Promise<boolean> =>
  attempt.then(
    () => false,
    (error: unknown) => {
      if (error instanceof RateLimited) return true;
      throw error;
    },
  );

describe.skipIf(redisUrl() === null)('rate limits of a cluster', () => {
  it('counts sign-ups, sign-in failures and socket upgrades once for all processes', async () => {
    const [a, b] = await twoProcesses();
    await a.signUp('10.0.0.1');
    await b.signUp('10.0.0.1');
    await a.signUp('10.0.0.1');
    expect(await refused(b.signUp('10.0.0.1'))).toBe(true);
    // Another address has its own allowance.
    expect(await refused(b.signUp('10.0.0.2'))).toBe(false);

    // Two failures, one on each process, block the pair on both.
    await a.signInFailed('alice', '10.0.0.1');
    await b.signInFailed('alice', '10.0.0.1');
    expect(await refused(a.checkSignIn('alice', '10.0.0.1'))).toBe(true);
    expect(await refused(b.checkSignIn('alice', '10.0.0.1'))).toBe(true);
    expect(await refused(b.checkSignIn('bob', '10.0.0.1'))).toBe(false);

    const waits = [];
    for (const limits of [a, b, a, b, a]) waits.push(await limits.socketUpgrade('alice'));
    expect(waits.map((w) => w > 0)).toEqual([false, false, false, false, true]);
  });

  it('keeps a user writing on two processes within rate + burst over the window, plus one sharing interval', async () => {
    const rate = 200;
    const burst = 50;
    const [busA, busB] = await buses(2);
    if (busA === undefined || busB === undefined) throw new Error('two buses');
    const a = new SharedWriteRate(rate, burst);
    const b = new SharedWriteRate(rate, burst);
    a.join(busA);
    b.join(busB);
    rates.push(a, b);
    // alice writes as fast as she can on both for a second; bob, on a alone, has his own bucket.
    let accepted = 0;
    let bobs = 0;
    const start = Date.now();
    while (Date.now() - start < 1000) {
      for (const process of [a, b]) if (process.take('alice', 1).ok) accepted++;
      if (a.take('bob', 1).ok) bobs++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const seconds = (Date.now() - start) / 1000;
    // Each process alone would let through burst + rate × T: twice that in all.
    const unshared = 2 * (burst + rate * seconds);
    // The bound: burst + rate × T, plus what the other process took before its message arrived
    // (its burst at the start, when both buckets were full, and rate × the interval; Redis's delivery is given 100 ms).
    const bound = burst + rate * seconds + burst + (rate * (SHARE_EVERY_MS + 100)) / 1000;
    expect(accepted).toBeLessThanOrEqual(bound);
    expect(accepted).toBeLessThan(unshared * 0.75);
    expect(accepted).toBeGreaterThanOrEqual(burst + rate * seconds * 0.9);
    expect(bobs).toBeGreaterThanOrEqual(burst + rate * seconds * 0.9);
  });
});
