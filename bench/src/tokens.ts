/**
 * Access tokens for the servers under test. Parley's name a server-side
 * session (`sid`), so they come from a real sign-in: an app token minted
 * with the server's `<dataDir>/app-secret` and exchanged at
 * /auth/app-token (no scrypt, so thousands of devices sign in quickly).
 * The peers get tokens minted the way Parley's used to be (JWT HS256, iss
 * "parley", sub = user, dev = device) with a key kept beside their data, and
 * verify them (Hocuspocus) or not (bare).
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

/** An access token of a new Parley session of `user` on `device` (see the header). */
export async function parleySession(wsBase: string, dataDir: string, user: string, device: string): Promise<string> {
  const http = wsBase.replace(/^ws/, 'http').replace(/\/sync$/, '');
  const appKey = new TextEncoder().encode(readFileSync(join(dataDir, 'app-secret'), 'utf8').trim());
  const appToken = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('parley-app')
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(appKey);
  const response = await fetch(`${http}/api/v1/auth/app-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appToken, device }),
  });
  if (!response.ok) throw new Error(`app-token sign-in of ${user}/${device}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}
