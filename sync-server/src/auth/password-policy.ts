/**
 * The password rule of sign-up (and of a password change): at least
 * LIMITS.passwordMin characters, not the user id (in any case), and not one
 * of the commonly used passwords that guessing attacks try first.
 *
 * The list, common-passwords.txt beside this file, is the 17,950 entries of
 * 8 or more characters (lower-cased) of the `passwords` dictionary that
 * @zxcvbn-ts/language-common 4.1.3 ships (MIT, from the Dropbox zxcvbn
 * frequency lists); shorter ones are refused by length already. It is read
 * once, on first use, not at import.
 */
import { readFileSync } from 'node:fs';
import { LIMITS, type ErrorCode } from '@parley/protocol';

let common: Set<string> | null = null;

function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
  return common;
}

/** null when `password` may be used by `user`; else the refusal (`password-too-weak`). */
export function checkPassword(user: string, password: string): ErrorCode | null {
  // Characters as a person counts them (code points), after the normalisation hashing applies.
  const normalised = password.normalize('NFKC');
  const folded = normalised.toLowerCase();
  if ([...normalised].length < LIMITS.passwordMin) return 'password-too-weak';
  if (folded === user.toLowerCase()) return 'password-too-weak';
  if (commonPasswords().has(folded)) return 'password-too-weak';
  return null;
}
