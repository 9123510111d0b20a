/**
 * The hosted chat service's UserSig, version 2: how an app backend proves to
 * that service (and so to Parley's `/v4/` and its sign-in) who a user is,
 * with a key shared between the backend and the server.
 *
 * A UserSig is JSON `{"TLS.ver":"2.0","TLS.identifier","TLS.sdkappid",
 * "TLS.expire","TLS.time","TLS.sig"}` (and "TLS.userbuf" when the backend
 * adds one), zlib-deflated, base64 with `+/=` written `*-_`. `TLS.sig` is
 * base64(HMAC-SHA256(key, content)) over the lines
 * `TLS.identifier:…\nTLS.sdkappid:…\nTLS.time:…\nTLS.expire:…\n`
 * (then `TLS.userbuf:…\n`). Refusals carry the hosted service's own codes, so
 * that a backend moving over reads the errors it already handles.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export type UserSigRefusal = { ok: false; code: 70001 | 70003 | 70009 | 70013 | 70014; detail: string };
export type UserSigCheck = { ok: true; identifier: string; expiresAt: number /* unix s */ } | UserSigRefusal;

/** The hosted service's own signatures inflate to about 200 bytes; a larger one is refused before it is read (a zlib bomb). */
const MAX_INFLATED_BYTES = 4096;
/** A signature this long cannot inflate within the cap anyway; refused before it is decoded. */
const MAX_SIG_CHARS = 8192;
/** How far ahead of the server's clock `TLS.time` may be: a backend's clock drifts by seconds, not minutes. */
const MAX_SKEW_SECONDS = 5 * 60;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The signed lines; a userbuf (already base64 in the JSON) is signed as it is written. */
function content(identifier: string, sdkAppId: number, time: number, expire: number, userbuf?: string): string {
  const lines = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  return userbuf === undefined ? lines : `${lines}TLS.userbuf:${userbuf}\n`;
}

const hmac = (secretKey: string, text: string): Buffer => createHmac('sha256', secretKey).update(text).digest();

/** Signs as the hosted service's published v2 algorithm (for tests, docs and `npm run usersig`). */
export function signUserSig(o: { sdkAppId: number; secretKey: string; identifier: string; expireSeconds: number; now?: number /* unix s */ }): string {
  const time = o.now ?? nowSeconds();
  const json = {
    'TLS.ver': '2.0',
    'TLS.identifier': o.identifier,
    'TLS.sdkappid': o.sdkAppId,
    'TLS.expire': o.expireSeconds,
    'TLS.time': time,
    'TLS.sig': hmac(o.secretKey, content(o.identifier, o.sdkAppId, time, o.expireSeconds)).toString('base64'),
  };
  return deflateSync(JSON.stringify(json)).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

const malformed = (detail: string): UserSigRefusal => ({ ok: false, code: 70003, detail });

/** The JSON inside a UserSig, or a 70003 refusal saying what is wrong with it. */
function unpack(sig: string): { ok: true; json: Record<string, unknown> } | UserSigRefusal {
  // Buffer's base64 skips characters it does not know; only the alphabet is taken, so nothing is silently dropped.
  if (sig.length === 0 || sig.length > MAX_SIG_CHARS || !/^[A-Za-z0-9*_-]+$/.test(sig)) return malformed('not in the UserSig alphabet (base64 with *-_)');
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.from(sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    return malformed(`not zlib data, or it inflates beyond ${MAX_INFLATED_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(inflated.toString('utf8'));
  } catch {
    return malformed('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return malformed('not a JSON object');
  return { ok: true, json: json as Record<string, unknown> };
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks a UserSig against the configured app id and key, and, when given,
 * the identifier it must name. Expired is 70001; unreadable, incomplete, of
 * another version or dated in the future 70003; a signature that does not
 * match 70009; another identifier 70013; another app id 70014.
 */
export function verifyUserSig(sig: string, o: { sdkAppId: number; secretKey: string; identifier?: string; now?: number }): UserSigCheck {
  const unpacked = unpack(sig);
  if (!unpacked.ok) return unpacked;
  const { 'TLS.ver': ver, 'TLS.identifier': identifier, 'TLS.sdkappid': appId, 'TLS.time': time, 'TLS.expire': expire, 'TLS.sig': mac, 'TLS.userbuf': userbuf } = unpacked.json;
  if (ver !== '2.0') return malformed(`version ${JSON.stringify(ver)}, not "2.0"`);
  if (typeof identifier !== 'string' || identifier === '') return malformed('no TLS.identifier');
  if (!isWhole(appId) || !isWhole(time) || !isWhole(expire)) return malformed('TLS.sdkappid, TLS.time and TLS.expire must be whole numbers');
  if (typeof mac !== 'string') return malformed('no TLS.sig');
  if (userbuf !== undefined && typeof userbuf !== 'string') return malformed('TLS.userbuf is not a string');
  if (appId !== o.sdkAppId) return { ok: false, code: 70014, detail: `signed for sdkappid ${appId}, not this server's` };
  if (o.identifier !== undefined && identifier !== o.identifier) return { ok: false, code: 70013, detail: 'signed for another identifier than the one given' };
  const expected = hmac(o.secretKey, content(identifier, appId, time, expire, userbuf));
  const given = Buffer.from(mac, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, code: 70009, detail: 'the signature does not match (another key, or the UserSig was altered)' };
  const now = o.now ?? nowSeconds();
  if (time > now + MAX_SKEW_SECONDS) return malformed("TLS.time is in the future (check the signing server's clock)");
  if (time + expire < now) return { ok: false, code: 70001, detail: `expired ${now - (time + expire)} s ago` };
  return { ok: true, identifier, expiresAt: time + expire };
}
