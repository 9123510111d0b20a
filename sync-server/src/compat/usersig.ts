/** Provisional (the UserSig work brings the full version): the hosted service's v2 signature. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export type UserSigRefusal = { ok: false; code: 70001 | 70003 | 70009 | 70013 | 70014; detail: string };
export type UserSigCheck = { ok: true; identifier: string; expiresAt: number } | UserSigRefusal;

const content = (id: string, appId: number, time: number, expire: number): string => `TLS.identifier:${id}\nTLS.sdkappid:${appId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
const hmac = (key: string, text: string): string => createHmac('sha256', key).update(text).digest('base64');

export function signUserSig(o: { sdkAppId: number; secretKey: string; identifier: string; expireSeconds: number; now?: number }): string {
  const time = o.now ?? Math.floor(Date.now() / 1000);
  const json = { 'TLS.ver': '2.0', 'TLS.identifier': o.identifier, 'TLS.sdkappid': o.sdkAppId, 'TLS.expire': o.expireSeconds, 'TLS.time': time, 'TLS.sig': hmac(o.secretKey, content(o.identifier, o.sdkAppId, time, o.expireSeconds)) };
  return deflateSync(Buffer.from(JSON.stringify(json))).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

export function verifyUserSig(sig: string, o: { sdkAppId: number; secretKey: string; identifier?: string; now?: number }): UserSigCheck {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(inflateSync(Buffer.from(sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64'), { maxOutputLength: 4096 }).toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, code: 70003, detail: 'not a UserSig' };
  }
  const id = doc['TLS.identifier'];
  const appId = Number(doc['TLS.sdkappid']);
  const time = Number(doc['TLS.time']);
  const expire = Number(doc['TLS.expire']);
  const given = doc['TLS.sig'];
  if (typeof id !== 'string' || typeof given !== 'string' || !Number.isInteger(time) || !Number.isInteger(expire)) return { ok: false, code: 70003, detail: 'fields missing' };
  if (appId !== o.sdkAppId) return { ok: false, code: 70014, detail: 'another sdkappid' };
  if (o.identifier !== undefined && id !== o.identifier) return { ok: false, code: 70013, detail: 'another identifier' };
  const want = Buffer.from(hmac(o.secretKey, content(id, appId, time, expire)));
  const got = Buffer.from(given);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, code: 70009, detail: 'signature does not match' };
  const now = o.now ?? Math.floor(Date.now() / 1000);
  if (now > time + expire) return { ok: false, code: 70001, detail: 'expired' };
  return { ok: true, identifier: id, expiresAt: time + expire };
}
