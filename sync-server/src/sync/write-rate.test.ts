import { describe, expect, it } from 'vitest';
import { MemoryWriteRate } from './write-rate.ts';

describe('the per-user write rate', () => {
  it('allows a burst, then refuses with the wait until a token is back', () => {
    const rate = new MemoryWriteRate(2, 5);
    for (let i = 0; i < 5; i++) expect(rate.take('alice', 1, 0)).toEqual({ ok: true });
    expect(rate.take('alice', 1, 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(rate.take('alice', 1, 499)).toMatchObject({ ok: false });
    expect(rate.take('alice', 1, 500)).toEqual({ ok: true });
  });

  it('keeps one bucket per user', () => {
    const rate = new MemoryWriteRate(1, 1);
    expect(rate.take('alice', 1, 0)).toEqual({ ok: true });
    expect(rate.take('alice', 1, 0)).toMatchObject({ ok: false });
    expect(rate.take('bob', 1, 0)).toEqual({ ok: true });
  });

  it('lets an update of more writes than the burst through from a full bucket only, and leaves the bucket in debt', () => {
    const rate = new MemoryWriteRate(10, 20);
    expect(rate.take('alice', 1, 0)).toEqual({ ok: true });
    // Not full: wait until it is (1 token short at 10/s).
    expect(rate.take('alice', 100, 0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(rate.take('alice', 100, 100)).toEqual({ ok: true });
    // 80 tokens of debt, and one more needed: 8.1 s at 10/s.
    expect(rate.take('alice', 1, 100)).toEqual({ ok: false, retryAfterMs: 8100 });
    expect(rate.take('alice', 1, 8200)).toEqual({ ok: true });
  });

  it('charges writes taken elsewhere, into debt if need be, and refills from there', () => {
    const rate = new MemoryWriteRate(10, 20);
    rate.charge('alice', 25, 0);
    // 5 tokens of debt, and one more needed: 0.6 s at 10/s.
    expect(rate.take('alice', 1, 0)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(rate.take('alice', 1, 600)).toEqual({ ok: true });
  });
});
