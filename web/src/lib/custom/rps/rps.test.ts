import { describe, expect, it } from 'vitest';
import { commitmentOf, newRound, outcome, roundOf, shouldReveal, verifyReveal, type Move } from './rps.ts';
import { sha256Hex } from './sha256.ts';

const SALT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
/** Web Crypto's SHA-256 (asynchronous), to check the synchronous one against. */
async function webSha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const fixedRandom = (bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => bytes.map((_, i) => i * 17);

describe('sha256', () => {
  it('matches the FIPS 180-4 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with Web Crypto on text of every length around a block, UTF-8 included', async () => {
    for (let n = 0; n < 140; n++) {
      const text = 'ä✌️x'.repeat(n).slice(0, n);
      expect(sha256Hex(text)).toBe(await webSha256(text));
    }
  });
});

describe('rock, paper, scissors', () => {
  it('commits to move + ":" + salt', async () => {
    expect(commitmentOf('rock', SALT)).toBe(await webSha256(`rock:${SALT}`));
  });

  it('makes a round whose secret verifies against its commitment', () => {
    const { data, secret } = newRound('scissors', fixedRandom);
    expect(secret.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(verifyReveal(data.commit, secret)).toBe(true);
    expect(verifyReveal(data.commit, { ...secret, move: 'rock' })).toBe(false);
  });

  it('scores every pair of moves', () => {
    const table: [Move, Move, string][] = [
      ['rock', 'scissors', 'win'],
      ['scissors', 'paper', 'win'],
      ['paper', 'rock', 'win'],
      ['scissors', 'rock', 'lose'],
      ['paper', 'scissors', 'lose'],
      ['rock', 'paper', 'lose'],
      ['rock', 'rock', 'draw'],
    ];
    for (const [mine, theirs, result] of table) expect(outcome(mine, theirs)).toBe(result);
  });

  it('walks a round through its states, seen from both sides', () => {
    const commit = commitmentOf('rock', SALT);
    const secret = { move: 'rock' as const, salt: SALT };
    const base = { commit, abandoned: false };
    expect(roundOf({ ...base, challenger: true, secret })).toEqual({ phase: 'waiting', myMove: 'rock' });
    expect(roundOf({ ...base, challenger: false })).toEqual({ phase: 'your-turn' });
    expect(roundOf({ ...base, challenger: true, secret, move: 'paper' })).toEqual({ phase: 'revealing', opponentMove: 'paper', myMove: 'rock' });
    expect(roundOf({ ...base, challenger: false, move: 'paper' })).toEqual({ phase: 'revealing', opponentMove: 'paper', myMove: 'paper' });
    const revealed = { ...base, move: 'paper' as const, reveal: secret };
    expect(roundOf({ ...revealed, challenger: true })).toEqual({ phase: 'result', challengerMove: 'rock', opponentMove: 'paper', outcome: 'lose' });
    expect(roundOf({ ...revealed, challenger: false })).toEqual({ phase: 'result', challengerMove: 'rock', opponentMove: 'paper', outcome: 'win' });
  });

  it('calls a reveal that does not match the commitment invalid', () => {
    const commit = commitmentOf('rock', SALT);
    // The challenger saw "paper" and claims scissors: the commitment gives it away.
    const round = roundOf({ commit, challenger: false, move: 'paper', reveal: { move: 'scissors', salt: SALT }, abandoned: false });
    expect(round).toEqual({ phase: 'invalid' });
  });

  it('reveals only on the challenger device that holds the secret, once the opponent has played', () => {
    const commit = commitmentOf('rock', SALT);
    const secret = { move: 'rock' as const, salt: SALT };
    expect(shouldReveal({ commit, challenger: true, secret, move: 'paper', abandoned: false })).toBe(true);
    expect(shouldReveal({ commit, challenger: true, secret, abandoned: false })).toBe(false);
    expect(shouldReveal({ commit, challenger: true, move: 'paper', abandoned: false })).toBe(false);
    expect(shouldReveal({ commit, challenger: false, secret, move: 'paper', abandoned: false })).toBe(false);
    expect(shouldReveal({ commit, challenger: true, secret, move: 'paper', reveal: secret, abandoned: false })).toBe(false);
    expect(shouldReveal({ commit, challenger: true, secret: { move: 'paper', salt: SALT }, move: 'paper', abandoned: false })).toBe(false);
  });

  it('ends an abandoned round unless it was revealed first', () => {
    const commit = commitmentOf('rock', SALT);
    expect(roundOf({ commit, challenger: false, move: 'rock', abandoned: true })).toEqual({ phase: 'abandoned' });
  });
});
