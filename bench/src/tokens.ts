/**
 * Access tokens for the servers under test, without thousands of scrypt
 * sign-ups:
 * - Parley: a real session per device, from an app token signed with the
 *   data dir's `app-secret` and exchanged at `/auth/app-token` (which creates
 *   the user on first use), exactly as an app backend signs its users in;
 * - the peers: a JWT minted with the key the harness keeps in their data dir
 *   (`jwt-secret`), which Hocuspocus verifies and the bare server ignores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';

export const ACCESS_ISSUER = 'parley';
const APP_ISSUER = 'parley-app';

/** The HTTP API base of a server whose sync sockets are at `wsBase` (ws://host:port/sync). */
export const apiBase = (wsBase: string): string => `${wsBase.replace(/^ws/, 'http').replace(/\/sync$/, '')}/api/v1`;

/** A Parley device session's access token: an app token signed with `<dataDir>/app-secret`, exchanged at /auth/app-token. */
export async function parleySession(dataDir: string, wsBase: string, user: string, device: string): Promise<string> {
  const secret = new TextEncoder().encode(readFileSync(join(dataDir, 'app-secret'), 'utf8').trim());
  const appToken = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(APP_ISSUER)
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(secret);
  const response = await fetch(`${apiBase(wsBase)}/auth/app-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appToken, device }) });
  if (!response.ok) throw new Error(`app-token sign-in of ${user}/${device}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

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
