/**
 * Rock, paper, scissors: the shapes of its data, its secret and its actions
 * (what the registry checks). The game itself is in rps.ts, loaded with the
 * renderer.
 */
import { z } from 'zod';

export const MOVES = ['rock', 'paper', 'scissors'] as const;
export const Move = z.enum(MOVES);
export type Move = z.infer<typeof Move>;

const hex = (min: number, max: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${min},${max}}$`));

/** The challenge: a commitment to the challenger's move, `sha256hex(move + ':' + salt)`. */
export const RpsData = z.object({ commit: hex(64, 64) });
export type RpsData = z.infer<typeof RpsData>;

/** The challenger's secret: at least 128 bits of salt, so the commitment cannot be guessed in three tries. */
export const RpsSecret = z.object({ move: Move, salt: hex(32, 128) });
export type RpsSecret = z.infer<typeof RpsSecret>;

export const RpsActions = {
  /** The opponent's move, in the clear. */
  move: { data: z.object({ move: Move }), by: 'recipient' },
  /** The challenger's move and salt, written by the challenger's device once the opponent has played. */
  reveal: { data: RpsSecret, by: 'sender' },
  /** The challenger gives the round up (the secret was lost). */
  abandon: { data: z.object({}), by: 'sender' },
} as const;
