import { createHmac } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { signUserSig, verifyUserSig } from './usersig.ts';

const KEY = 'parley-test-secret-key-0123456789';
const APP = 1400000001;
const T = 1767225600;
const server = { sdkAppId: APP, secretKey: KEY };

/**
 * The fixed vector: identifier alice, sdkappid 1400000001, time 1767225600,
 * expire 86400, the key above, signed by a separate implementation (Python's
 * hmac and zlib), so its deflate bytes are another zlib's, not Node's.
 */
const VECTOR_SIG = '28h6UcjUkFEsBWw+iLVD9pzGc4ckDa3OLiJeKmjnRNk=';
const VECTOR =
  'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwok5mcmpUInilOzEgoLMFCUrQxMDCDCEyKRWFGQWpSpZWZgBJSBCJZm5QAFDczNzIyNTM5hocWY6yC6LDLPQ5KzQbDfXYqfwcu1MnzAXy4Iq92ST5GyXRGN-n0yvVO-crLwgv2xbpVoAlhUwuA__';

/** The published algorithm again, written apart from usersig.ts, so that each checks the other; `fields` overrides or adds JSON fields. */
function independentSig(o: { id: string; app: number; time: number; expire: number; key: string; userbuf?: Buffer; fields?: Record<string, unknown> }): string {
  const buf = o.userbuf === undefined ? undefined : o.userbuf.toString('base64');
  let text = `TLS.identifier:${o.id}\nTLS.sdkappid:${o.app}\nTLS.time:${o.time}\nTLS.expire:${o.expire}\n`;
  if (buf !== undefined) text += `TLS.userbuf:${buf}\n`;
  const sig = createHmac('sha256', o.key).update(text).digest('base64');
  const json = { 'TLS.ver': '2.0', 'TLS.identifier': o.id, 'TLS.sdkappid': o.app, 'TLS.expire': o.expire, 'TLS.time': o.time, 'TLS.sig': sig, ...(buf === undefined ? {} : { 'TLS.userbuf': buf }), ...o.fields };
  return pack(Buffer.from(JSON.stringify(json)));
}

const pack = (bytes: Buffer): string => deflateSync(bytes).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
const unpackJson = (sig: string): unknown => JSON.parse(inflateSync(Buffer.from(sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64')).toString());

describe('UserSig v2', () => {
  it('accepts the fixed vector, made by another implementation and another zlib', () => {
    expect(verifyUserSig(VECTOR, { ...server, identifier: 'alice', now: T + 10 })).toEqual({ ok: true, identifier: 'alice', expiresAt: T + 86400 });
  });

  it("signs the fixed vector's JSON and signature exactly, as the independent implementation does", () => {
    const mine = signUserSig({ ...server, identifier: 'alice', expireSeconds: 86400, now: T });
    expect(unpackJson(mine)).toEqual(unpackJson(VECTOR));
    expect(JSON.stringify(unpackJson(mine))).toBe(JSON.stringify(unpackJson(VECTOR)));
    expect((unpackJson(mine) as Record<string, unknown>)['TLS.sig']).toBe(VECTOR_SIG);
    expect(unpackJson(independentSig({ id: 'alice', app: APP, time: T, expire: 86400, key: KEY }))).toEqual(unpackJson(VECTOR));
    expect(mine).toMatch(/^[A-Za-z0-9*_-]+$/);
  });

  it('accepts a UserSig carrying a userbuf (signed with its own line)', () => {
    const sig = independentSig({ id: 'bob', app: APP, time: T, expire: 600, key: KEY, userbuf: Buffer.from([0, 1, 2, 250, 251, 255]) });
    expect(verifyUserSig(sig, { ...server, identifier: 'bob', now: T })).toEqual({ ok: true, identifier: 'bob', expiresAt: T + 600 });
  });

  it('takes any identifier when none is asked, and says which', () => {
    expect(verifyUserSig(VECTOR, { ...server, now: T })).toMatchObject({ ok: true, identifier: 'alice' });
  });

  it('refuses an expired UserSig with 70001, and accepts it up to its last second', () => {
    expect(verifyUserSig(VECTOR, { ...server, now: T + 86400 })).toMatchObject({ ok: true });
    expect(verifyUserSig(VECTOR, { ...server, now: T + 86401 })).toMatchObject({ ok: false, code: 70001 });
  });

  it('refuses a UserSig dated beyond five minutes ahead as malformed (70003), and takes a smaller skew', () => {
    expect(verifyUserSig(VECTOR, { ...server, now: T - 300 })).toMatchObject({ ok: true });
    expect(verifyUserSig(VECTOR, { ...server, now: T - 301 })).toMatchObject({ ok: false, code: 70003 });
  });

  it('refuses what is not a UserSig with 70003: not base64, not zlib, not JSON, missing fields, another version', () => {
    const cases = [
      '',
      'not base64!',
      'aGVsbG8gd29ybGQ_', // base64 of "hello world", not zlib
      pack(Buffer.from('not json')),
      pack(Buffer.from('[1,2]')),
      pack(Buffer.from('null')),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.ver': '1.0' } }),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.sig': undefined } }),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.identifier': undefined } }),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.time': '1767225600' } }),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.expire': -1 } }),
      independentSig({ id: 'alice', app: APP, time: T, expire: 60, key: KEY, fields: { 'TLS.userbuf': 5 } }),
    ];
    for (const sig of cases) expect(verifyUserSig(sig, { ...server, now: T }), sig).toMatchObject({ ok: false, code: 70003 });
  });

  it('refuses a signature that does not match with 70009: another key, or one altered byte of the signed content', () => {
    expect(verifyUserSig(independentSig({ id: 'alice', app: APP, time: T, expire: 86400, key: 'another-key-of-the-same-size-0123' }), { ...server, now: T })).toMatchObject({
      ok: false,
      code: 70009,
    });
    // A longer life, the signature left as it was.
    const stretched = independentSig({ id: 'alice', app: APP, time: T, expire: 86400, key: KEY, fields: { 'TLS.expire': 86401 * 365, 'TLS.sig': VECTOR_SIG } });
    expect(verifyUserSig(stretched, { ...server, now: T })).toMatchObject({ ok: false, code: 70009 });
    const json = unpackJson(VECTOR) as Record<string, string>;
    const flipped = `${json['TLS.sig']?.[0] === 'A' ? 'B' : 'A'}${json['TLS.sig']?.slice(1) ?? ''}`;
    expect(verifyUserSig(pack(Buffer.from(JSON.stringify({ ...json, 'TLS.sig': flipped }))), { ...server, now: T })).toMatchObject({ ok: false, code: 70009 });
    expect(verifyUserSig(pack(Buffer.from(JSON.stringify({ ...json, 'TLS.sig': 'c2hvcnQ=' }))), { ...server, now: T })).toMatchObject({ ok: false, code: 70009 });
  });

  it('refuses the UserSig string with any one character of its data changed, without throwing', () => {
    const bytes = (sig: string): Buffer => Buffer.from(sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64');
    const data = VECTOR.replace(/_+$/, '').length;
    for (let i = 0; i < data; i += 1) {
      const tampered = VECTOR.slice(0, i) + (VECTOR[i] === 'A' ? 'B' : 'A') + VECTOR.slice(i + 1);
      // The last character's low bits are padding: a change only there decodes to the same bytes.
      if (bytes(tampered).equals(bytes(VECTOR))) continue;
      expect(verifyUserSig(tampered, { ...server, identifier: 'alice', now: T }).ok, `character ${i}`).toBe(false);
    }
  });

  it('refuses another identifier with 70013 and another sdkappid with 70014', () => {
    expect(verifyUserSig(VECTOR, { ...server, identifier: 'mallory', now: T })).toMatchObject({ ok: false, code: 70013 });
    expect(verifyUserSig(VECTOR, { ...server, identifier: 'Alice', now: T })).toMatchObject({ ok: false, code: 70013 });
    expect(verifyUserSig(VECTOR, { sdkAppId: APP + 1, secretKey: KEY, now: T })).toMatchObject({ ok: false, code: 70014 });
  });

  it('refuses a UserSig that inflates beyond 4 KiB (a zlib bomb) as malformed, even a well-signed one, without a crash', () => {
    // Signed and valid JSON, padded with whitespace: only the size cap refuses it.
    const json = JSON.stringify(unpackJson(VECTOR)).replace('{', `{${' '.repeat(64 * 1024)}`);
    expect(verifyUserSig(pack(Buffer.from(json)), { ...server, now: T })).toMatchObject({ ok: false, code: 70003 });
    const bomb = pack(Buffer.alloc(1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(8192);
    expect(verifyUserSig(bomb, { ...server, now: T })).toMatchObject({ ok: false, code: 70003 });
    expect(verifyUserSig(pack(Buffer.alloc(64 * 1024 * 1024, 0x20)), { ...server, now: T })).toMatchObject({ ok: false, code: 70003 });
  });
});
