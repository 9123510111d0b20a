/**
 * Access tokens minted the way sync-server/src/auth/tokens.ts issues them
 * (JWT HS256, iss "parley", sub = user, dev = device), with the server's own
 * key from `<dataDir>/jwt-secret`. The server verifies them exactly as it
 * verifies tokens from sign-in, so this is real auth without thousands of
 * scrypt sign-ups. The peers verify the same tokens (Hocuspocus) or none (bare).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';

export const ACCESS_ISSUER = 'parley';

export function readJwtSecret(dataDir: string): Uint8Array {
  return new TextEncoder().encode(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim());
}

export async function mintAccessToken(key: Uint8Array, user: string, device: string, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ dev: device })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ACCESS_ISSUER)
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

/** The user a token names, or null (used by the Hocuspocus peer's onAuthenticate). */
export async function verifyAccessToken(key: Uint8Array, token: string): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ACCESS_ISSUER, algorithms: ['HS256'] });
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}
