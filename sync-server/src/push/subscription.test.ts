import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { subscriptionRecord } from './subscription.ts';

describe('push subscriptions', () => {
  it('keeps a subscription whose keys can encrypt, and refuses one whose keys cannot', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    const body = { endpoint: 'https://push.example/1', keys, previews: false };
    expect(subscriptionRecord('bob', 'phone', body, 5)).toEqual({ user: 'bob', device: 'phone', endpoint: body.endpoint, ...keys, previews: false, updated: 5 });
    const refusal = (over: Partial<typeof keys>) => {
      try {
        subscriptionRecord('bob', 'phone', { ...body, keys: { ...keys, ...over } }, 5);
        return null;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(refusal({ p256dh: Buffer.alloc(65, 4).toString('base64url') })).toBe('push-subscription-invalid');
    expect(refusal({ p256dh: ecdh.getPublicKey(null, 'compressed').toString('base64url') })).toBe('push-subscription-invalid');
    expect(refusal({ auth: randomBytes(12).toString('base64url') })).toBe('push-subscription-invalid');
    expect(refusal({ auth: 'not base64url!' })).toBe('push-subscription-invalid');
  });
});
