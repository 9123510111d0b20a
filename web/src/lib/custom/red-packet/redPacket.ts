/**
 * A red packet: an amount and a greeting, opened once by the recipient (the
 * action `open`, a key written once ever, so a second open is refused by the
 * server too). The sender cannot open their own. No money moves: the amount
 * is what the gift says it is. Pure.
 */
import { MAX_CENTS } from './schema.ts';

export { DEFAULT_GREETING, MAX_CENTS, describePacket, type RedPacketActions, type RedPacketData } from './schema.ts';

export function formatAmount(cents: number, currency?: string): string {
  const value = cents / 100;
  if (currency === undefined) return value.toFixed(2);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** Cents from what a person typed ("12", "12.5", "12,50"), or null when it is no valid amount. */
export function parseAmount(text: string): number | null {
  const match = /^\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (match === null) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
  return cents > 0 && cents <= MAX_CENTS ? cents : null;
}

export type PacketState =
  | { opened: false; canOpen: boolean }
  | { opened: true; byMe: boolean; ts: number };

/** `openedBy`: who wrote the checked `open` action, if anyone (only the recipient can). */
export function packetState(mine: boolean, open: { from: string; ts: number } | undefined, me: string): PacketState {
  if (open !== undefined) return { opened: true, byMe: open.from === me, ts: open.ts };
  return { opened: false, canOpen: !mine };
}
