/**
 * The media cookie: the access token once more, for the one place a browser
 * cannot send a header (`<img>`, `<audio>`, `<video>` loading /api/v1/media).
 * HttpOnly: scripts never see it. SameSite=Strict: no other site's page makes
 * the browser send it. Path=/api/v1/media: sent nowhere else, and only the
 * media route reads it. Max-Age: the token's own lifetime. Secure over https.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MEDIA_COOKIE, MEDIA_PATH, type Session } from '@parley/protocol';
import type { Tokens } from '../auth/tokens.ts';
import { Refusal } from '../errors.ts';

/** Sets the media cookie of a session on its answer; returns the session. */
export function withMediaCookie(request: FastifyRequest, reply: FastifyReply, session: Session): Session {
  const maxAge = Math.max(0, session.expiresAt - Math.floor(Date.now() / 1000));
  setMediaCookie(request, reply, session.accessToken, maxAge);
  return session;
}

/** Clears the media cookie (sign-out): the browser forgets the dead token. */
export function withoutMediaCookie(request: FastifyRequest, reply: FastifyReply): void {
  setMediaCookie(request, reply, '', 0);
}

function setMediaCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  // Behind a TLS-terminating proxy the socket is plain http; trusting the
  // header here is harmless: it can only add Secure, never take it away.
  const https = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
  const parts = [`${MEDIA_COOKIE}=${value}`, 'HttpOnly', 'SameSite=Strict', `Path=${MEDIA_PATH}`, `Max-Age=${maxAge}`];
  if (https) parts.push('Secure');
  reply.header('set-cookie', parts.join('; '));
}

/** The media cookie's value on a request, if any. */
export function mediaCookieOf(request: FastifyRequest): string | undefined {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === MEDIA_COOKIE) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/** Who asks for bytes under the media path: the bearer token, else the media cookie (an <img> sends no header); refused otherwise. */
export async function mediaReader(request: FastifyRequest, tokens: Tokens): Promise<string> {
  const header = request.headers.authorization;
  const bearer = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : undefined;
  const check = await tokens.verifyAccess(bearer ?? mediaCookieOf(request));
  if (!check.ok) throw new Refusal(check.code);
  return check.user;
}
