/**
 * What makes a push subscription usable: keys that can encrypt (RFC 8291),
 * and an endpoint the server may POST to (endpoints.ts, checked by the push
 * service as the device subscribes). Checked when a device subscribes, so
 * that a bad one is refused to the device instead of failing on every push.
 */
import { createECDH } from 'node:crypto';
import type { PushSubscriptionBody } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { PushSubscriptionRecord } from '../storage/storage.ts';

const decode = (value: string): Buffer | null => (/^[A-Za-z0-9_-]+={0,2}$/.test(value) ? Buffer.from(value.replace(/=+$/, ''), 'base64url') : null);

/** A point on P-256, uncompressed (65 bytes, 0x04 first). */
function isP256Point(key: Buffer): boolean {
  if (key.length !== 65 || key[0] !== 4) return false;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(key);
    return true;
  } catch {
    return false;
  }
}

/** The record to store for (user, device), or a `push-subscription-invalid` refusal saying why not. */
export function subscriptionRecord(user: string, device: string, body: PushSubscriptionBody, now: number): PushSubscriptionRecord {
  const p256dh = decode(body.keys.p256dh);
  if (p256dh === null || !isP256Point(p256dh)) throw new Refusal('push-subscription-invalid', 'p256dh is not an uncompressed P-256 public key');
  const auth = decode(body.keys.auth);
  if (auth?.length !== 16) throw new Refusal('push-subscription-invalid', 'auth is not a 16-byte secret');
  return {
    user,
    device,
    endpoint: body.endpoint,
    p256dh: p256dh.toString('base64url'),
    auth: auth.toString('base64url'),
    previews: body.previews,
    updated: now,
  };
}
