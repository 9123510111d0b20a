/**
 * Rock, paper, scissors between the two members, with commit–reveal so that
 * the second player cannot see the first move:
 *
 *   1. the challenger sends `{commit: sha256hex(move + ':' + salt)}` and keeps
 *      the move and the salt on the device (`customSecrets`);
 *   2. the opponent writes the action `move {move}`;
 *   3. the challenger's device, on seeing it, writes `reveal {move, salt}`;
 *   4. both devices check the reveal against the commitment and show the result.
 *
 * A challenger who lost the secret (another device, a cleared store) can
 * `abandon` the round. All pure: the renderer derives the round from the
 * message data and the checked actions.
 */
import { sha256Hex } from './sha256.ts';
import type { Move, RpsData, RpsSecret } from './schema.ts';

export { MOVES, type Move, type RpsActions, type RpsData, type RpsSecret } from './schema.ts';

export const EMOJI: Record<Move, string> = { rock: '✊', paper: '✋', scissors: '✌️' };
export const LABEL: Record<Move, string> = { rock: 'Rock', paper: 'Paper', scissors: 'Scissors' };

export function commitmentOf(move: Move, salt: string): string {
  return sha256Hex(`${move}:${salt}`);
}

/** A new round's secret and commitment; `random` fills the salt (crypto.getRandomValues in the app). */
export function newRound(move: Move, random: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>): { data: RpsData; secret: RpsSecret } {
  const salt = [...random(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { data: { commit: commitmentOf(move, salt) }, secret: { move, salt } };
}

export function verifyReveal(commit: string, reveal: RpsSecret): boolean {
  return commitmentOf(reveal.move, reveal.salt) === commit;
}

const BEATS: Record<Move, Move> = { rock: 'scissors', paper: 'rock', scissors: 'paper' };

export type Outcome = 'win' | 'lose' | 'draw';

export function outcome(mine: Move, theirs: Move): Outcome {
  if (mine === theirs) return 'draw';
  return BEATS[mine] === theirs ? 'win' : 'lose';
}

export type Round =
  /** The challenger's view before the opponent plays. */
  | { phase: 'waiting'; myMove: Move | null }
  /** The opponent's view: pick a move. */
  | { phase: 'your-turn' }
  /** The opponent played; the challenger's device has not revealed yet. */
  | { phase: 'revealing'; opponentMove: Move; myMove: Move | null }
  | { phase: 'result'; challengerMove: Move; opponentMove: Move; outcome: Outcome }
  /** The reveal does not match the commitment. */
  | { phase: 'invalid' }
  | { phase: 'abandoned' };

export interface RoundInput {
  commit: string;
  /** Whether I am the challenger (the message's sender). */
  challenger: boolean;
  /** The checked actions (one of each name at most: each key is written once). */
  move?: Move | undefined;
  reveal?: RpsSecret | undefined;
  abandoned: boolean;
  /** The challenger's own secret, on the device that sent the round. */
  secret?: RpsSecret | undefined;
}

/** The round as one member sees it. */
export function roundOf(input: RoundInput): Round {
  const { commit, challenger, move, reveal, abandoned, secret } = input;
  const ownMove = challenger && secret !== undefined && verifyReveal(commit, secret) ? secret.move : null;
  if (reveal !== undefined) {
    if (!verifyReveal(commit, reveal)) return { phase: 'invalid' };
    if (move === undefined) return { phase: 'invalid' };
    const fromChallenger = outcome(reveal.move, move);
    return { phase: 'result', challengerMove: reveal.move, opponentMove: move, outcome: challenger ? fromChallenger : invert(fromChallenger) };
  }
  if (abandoned) return { phase: 'abandoned' };
  if (move === undefined) return challenger ? { phase: 'waiting', myMove: ownMove } : { phase: 'your-turn' };
  return { phase: 'revealing', opponentMove: move, myMove: challenger ? ownMove : move };
}

function invert(o: Outcome): Outcome {
  return o === 'win' ? 'lose' : o === 'lose' ? 'win' : 'draw';
}

/** Whether this device should write the reveal now: it is the challenger's, holds the secret, and the opponent has played. */
export function shouldReveal(input: RoundInput): input is RoundInput & { secret: RpsSecret } {
  return input.challenger && input.move !== undefined && input.reveal === undefined && !input.abandoned && input.secret !== undefined && verifyReveal(input.commit, input.secret);
}
