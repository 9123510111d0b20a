import { describe, expect, it } from 'vitest';
import { FIRST_WAIT_MS, LONGEST_WAIT_MS, SlowDown } from './slowDown.ts';

describe('waiting after slow-down', () => {
  it("waits as long as the server says, then lets the document's writes go", () => {
    const slow = new SlowDown();
    expect(slow.refused('doc', 400, 0)).toBe(400);
    expect(slow.waitOf('doc', 100)).toBe(300);
    expect(slow.waitOf('doc', 400)).toBe(0);
    expect(slow.waitOf('other', 100)).toBe(0);
  });

  it('backs off, doubling, when refused again, and never waits longer than the longest wait', () => {
    const slow = new SlowDown();
    expect(slow.refused('doc', undefined, 0)).toBe(FIRST_WAIT_MS);
    expect(slow.refused('doc', 100, 0)).toBe(2 * FIRST_WAIT_MS);
    expect(slow.refused('doc', undefined, 0)).toBe(4 * FIRST_WAIT_MS);
    for (let i = 0; i < 10; i++) slow.refused('doc', undefined, 0);
    expect(slow.waitOf('doc', 0)).toBe(LONGEST_WAIT_MS);
  });

  it('ends the wait and the backoff when the person sends now or an ack arrives', () => {
    const slow = new SlowDown();
    slow.refused('doc', undefined, 0);
    slow.refused('doc', undefined, 0);
    slow.clear('doc');
    expect(slow.waitOf('doc', 0)).toBe(0);
    expect(slow.refused('doc', undefined, 0)).toBe(FIRST_WAIT_MS);
  });
});
