/**
 * Tokens, all JWT HS256 (jose):
 * - access tokens, signed with the server's own key: `sub` = user, `dev` =
 *   device, `sid` = session (auth/sessions.ts). A token whose session was
 *   revoked is refused (`session-revoked`); one without `sid` (issued before
 *   sessions existed) is `token-invalid`, so its device signs in again;
 * - app tokens, signed with the app secret shared with an app backend
 *   (`iss: "parley-app"`, `sub` = user), exchanged for a session.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { isUserId, LIFETIMES, type ErrorCode } from '@parley/protocol';

const ACCESS_ISSUER = 'parley';
export const APP_ISSUER = 'parley-app';

export type TokenCheck = { ok: true; user: string; device: string; session: string } | { ok: false; code: ErrorCode };

/** Whether a session is live (Sessions.checkOrRead): a lookup in memory, made for every request; storage only on a miss. */
export interface SessionCheck {
  checkOrRead(id: string, user: string): Promise<boolean>;
}

const key = (secret: string): Uint8Array => new TextEncoder().encode(secret);

export class Tokens {
  private readonly accessKey: Uint8Array;
  private readonly appKey: Uint8Array;

  constructor(
    jwtSecret: string,
    appSecret: string,
    private readonly accessTtl: number,
    private readonly sessions: SessionCheck,
  ) {
    this.accessKey = key(jwtSecret);
    this.appKey = key(appSecret);
  }

  /** Signs an access token; `expiresAt` is in seconds since the epoch. */
  async issueAccess(user: string, device: string, session: string, expiresAt = Math.floor(Date.now() / 1000) + this.accessTtl): Promise<{ token: string; expiresAt: number }> {
    const token = await new SignJWT({ dev: device, sid: session })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ACCESS_ISSUER)
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.accessKey);
    return { token, expiresAt };
  }

  async verifyAccess(token: string | undefined | null): Promise<TokenCheck> {
    if (token === undefined || token === null || token === '') return { ok: false, code: 'token-missing' };
    try {
      const { payload } = await jwtVerify(token, this.accessKey, { issuer: ACCESS_ISSUER, algorithms: ['HS256'] });
      if (!isUserId(payload.sub) || typeof payload.dev !== 'string' || typeof payload.sid !== 'string') return { ok: false, code: 'token-invalid' };
      if (!(await this.sessions.checkOrRead(payload.sid, payload.sub))) return { ok: false, code: 'session-revoked' };
      return { ok: true, user: payload.sub, device: payload.dev, session: payload.sid };
    } catch (e) {
      return { ok: false, code: e instanceof errors.JWTExpired ? 'token-expired' : 'token-invalid' };
    }
  }

  /** The user an app token names, or null when it is forged, expired or malformed. */
  async verifyApp(token: string): Promise<string | null> {
    try {
      const { payload } = await jwtVerify(token, this.appKey, { issuer: APP_ISSUER, algorithms: ['HS256'], requiredClaims: ['exp'] });
      return isUserId(payload.sub) ? payload.sub : null;
    } catch {
      return null;
    }
  }
}

/** What an app backend does: mint a short-lived app token for one of its users. */
export async function mintAppToken(appSecret: string, user: string, ttlSeconds: number = LIFETIMES.appToken): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(APP_ISSUER)
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(appSecret));
}
