/**
 * Sign-in with the hosted chat service's UserSig (POST /api/v1/auth/usersig):
 * a real server on port 0 started with the compat settings, real SQLite.
 * Client addresses are told apart through X-Forwarded-For
 * (PARLEY_TRUST_PROXY=1) where the sign-in limits are tested.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, errorMessage, type ProfileEntry, type Session } from '@parley/protocol';
import { signUserSig } from '../src/compat/usersig.ts';
import { api, cleanup, signUp, startServer } from './helpers.ts';

afterEach(cleanup);

const APP = 1400000001;
const KEY = 'usersig-test-secret-key-0123456789';
const COMPAT = { PARLEY_COMPAT_SDKAPPID: String(APP), PARLEY_COMPAT_SECRET_KEY: KEY };
const now = (): number => Math.floor(Date.now() / 1000);
const sig = (identifier: string, o: { expireSeconds?: number; secretKey?: string; sdkAppId?: number; now?: number } = {}): string =>
  signUserSig({ sdkAppId: o.sdkAppId ?? APP, secretKey: o.secretKey ?? KEY, identifier, expireSeconds: o.expireSeconds ?? 600, now: o.now ?? now() });

type Answer = Session & { error: { code: string; message: string } };

/** POST /auth/usersig from client address `from` (X-Forwarded-For, read only where the server trusts a proxy). */
async function signIn(url: string, user: string, usersig: string, from = '203.0.113.1'): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${url}${API_PREFIX}/auth/usersig`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ user, usersig, device: 'd' }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe('sign-in with a UserSig', () => {
  it('creates the user on first sign-in, signs them in again, and the session works', async () => {
    const { url } = await startServer({ env: COMPAT });
    const first = await signIn(url, 'carol', sig('carol'));
    expect(first.status).toBe(200);
    expect(first.body.user).toBe('carol');
    expect(first.body.profile).toEqual({ id: 'carol', nickname: 'carol' });
    expect((await api<ProfileEntry>(url, 'GET', '/me', undefined, first.body.accessToken)).body.id).toBe('carol');
    const again = await signIn(url, 'carol', sig('carol'));
    expect(again.status).toBe(200);
    expect(again.body.refreshToken).not.toBe(first.body.refreshToken);
  });

  it('signs in an existing account made with a password', async () => {
    const { url } = await startServer({ env: COMPAT });
    await signUp(url, 'dave');
    const res = await signIn(url, 'dave', sig('dave'));
    expect([res.status, res.body.user]).toEqual([200, 'dave']);
  });

  it("refuses a UserSig that is not good with usersig-invalid, naming the hosted service's code", async () => {
    // More failures in a row than the default limit (5) lets one account and address make.
    const { url } = await startServer({ env: { ...COMPAT, PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '20' } });
    const good = sig('erin');
    const cases: [string, string, number][] = [
      ['erin', sig('erin', { secretKey: 'another-key-another-key-another' }), 70009],
      ['erin', sig('frank'), 70013],
      ['erin', sig('erin', { sdkAppId: APP + 1 }), 70014],
      ['erin', 'not a usersig', 70003],
      ['erin', `${good.slice(0, 20)}${good[20] === 'A' ? 'B' : 'A'}${good.slice(21)}`, 0],
      ['erin', sig('erin', { now: now() + 3600 }), 70003],
    ];
    for (const [user, usersig, code] of cases) {
      const res = await signIn(url, user, usersig);
      expect(res.status, usersig).toBe(401);
      expect(res.body.error.code, usersig).toBe('usersig-invalid');
      expect(res.body.error.message, usersig).toContain(errorMessage('usersig-invalid'));
      if (code !== 0) expect(res.body.error.message, usersig).toContain(`(${code}: `);
    }
    // None of them created the account.
    expect((await signIn(url, 'erin', good)).body.profile).toEqual({ id: 'erin', nickname: 'erin' });
  });

  it('refuses an expired UserSig with usersig-expired', async () => {
    const { url } = await startServer({ env: COMPAT });
    const res = await signIn(url, 'gina', sig('gina', { expireSeconds: 60, now: now() - 120 }));
    expect([res.status, res.body.error.code]).toEqual([401, 'usersig-expired']);
    expect(res.body.error.message).toBe(errorMessage('usersig-expired'));
  });

  it('refuses a reserved id and a deleted account (its tombstone)', async () => {
    const { url } = await startServer({ env: COMPAT });
    const reserved = await signIn(url, '@admin', sig('@admin'));
    expect([reserved.status, reserved.body.error.code]).toEqual([400, 'user-id-reserved']);
    const hank = await signIn(url, 'hank', sig('hank'));
    expect((await api(url, 'DELETE', '/me', { confirm: 'hank' }, hank.body.accessToken)).status).toBe(200);
    const gone = await signIn(url, 'hank', sig('hank'));
    expect([gone.status, gone.body.error.code]).toEqual([409, 'account-deleted']);
  });

  it('answers 404 compat-off, saying which settings are missing, on a server without the hosted service\'s key', async () => {
    const { url } = await startServer();
    const res = await signIn(url, 'ivan', sig('ivan'));
    expect([res.status, res.body.error.code]).toEqual([404, 'compat-off']);
    expect(res.body.error.message).toContain('PARLEY_COMPAT_SECRET_KEY');
  });

  it('counts failed UserSigs against the sign-in limits: the account is then blocked from that address, for passwords too', async () => {
    const { url } = await startServer({ env: { ...COMPAT, PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '3', PARLEY_SIGNIN_BLOCK_SECONDS: '600' } });
    await signUp(url, 'judy');
    const forged = sig('judy', { secretKey: 'a-guess-at-the-key-a-guess-at-it' });
    for (let i = 0; i < 3; i += 1) expect((await signIn(url, 'judy', forged)).body.error.code).toBe('usersig-invalid');
    const blocked = await signIn(url, 'judy', sig('judy'));
    expect([blocked.status, blocked.body.error.code]).toEqual([429, 'rate-limited']);
    const password = await fetch(`${url}${API_PREFIX}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.1' },
      body: JSON.stringify({ user: 'judy', password: 'correct horse', device: 'd' }),
    });
    expect(password.status).toBe(429);
    // Another address is not blocked, and its success does not unblock the first.
    expect((await signIn(url, 'judy', sig('judy'), '203.0.113.2')).status).toBe(200);
    expect((await signIn(url, 'judy', sig('judy'))).status).toBe(429);
  });
});
