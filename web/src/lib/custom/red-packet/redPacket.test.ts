import { describe, expect, it } from 'vitest';
import { formatAmount, packetState, parseAmount } from './redPacket.ts';
import { RedPacketData } from './schema.ts';

describe('red packet', () => {
  it('reads amounts the way people type them, in cents, within the limit', () => {
    expect(parseAmount('8.88')).toBe(888);
    expect(parseAmount('12,5')).toBe(1250);
    expect(parseAmount(' 200 ')).toBe(20_000);
    expect(parseAmount('200.01')).toBeNull();
    expect(parseAmount('0')).toBeNull();
    expect(parseAmount('-1')).toBeNull();
    expect(parseAmount('1.234')).toBeNull();
    expect(parseAmount('ten')).toBeNull();
  });

  it('accepts 1 to 20000 whole cents and a three-letter currency', () => {
    expect(RedPacketData.safeParse({ amount: 1, greeting: '' }).success).toBe(true);
    expect(RedPacketData.safeParse({ amount: 20_000, currency: 'EUR', greeting: 'Hi' }).success).toBe(true);
    expect(RedPacketData.safeParse({ amount: 20_001, greeting: '' }).success).toBe(false);
    expect(RedPacketData.safeParse({ amount: 10.5, greeting: '' }).success).toBe(false);
    expect(RedPacketData.safeParse({ amount: 100, currency: 'euro', greeting: '' }).success).toBe(false);
  });

  it('formats an amount with its currency, or plainly without one', () => {
    expect(formatAmount(888)).toBe('8.88');
    expect(formatAmount(888, 'USD')).toMatch(/8\.88/);
  });

  it('is opened once, by the recipient only', () => {
    expect(packetState(false, undefined, 'bob')).toEqual({ opened: false, canOpen: true });
    expect(packetState(true, undefined, 'alice')).toEqual({ opened: false, canOpen: false });
    expect(packetState(false, { from: 'bob', ts: 5 }, 'bob')).toEqual({ opened: true, byMe: true, ts: 5 });
    expect(packetState(true, { from: 'bob', ts: 5 }, 'alice')).toEqual({ opened: true, byMe: false, ts: 5 });
  });
});
