/**
 * A red packet: the shapes of its data and its one action (what the registry
 * checks), and its description. Formatting and state are in redPacket.ts,
 * loaded with the renderer.
 */
import { z } from 'zod';

/** The most one packet may hold, in cents (200.00). */
export const MAX_CENTS = 20_000;

export const DEFAULT_GREETING = 'Best wishes!';

export const RedPacketData = z.object({
  /** Cents. */
  amount: z.number().int().positive().max(MAX_CENTS),
  /** ISO 4217; none shows a plain amount. */
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  greeting: z.string().max(80),
});
export type RedPacketData = z.infer<typeof RedPacketData>;

export const RedPacketActions = {
  /** The recipient opens it: once ever (its key is written once), never the sender. */
  open: { data: z.object({}), by: 'recipient' },
} as const;

export function describePacket(data: RedPacketData): string {
  return `🧧 Red packet: ${data.greeting || DEFAULT_GREETING}`;
}
