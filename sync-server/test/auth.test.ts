import { afterEach, describe, expect, it } from 'vitest';
import type { ProfileEntry, Session } from '@parley/protocol';
import { mintAppToken } from '../src/auth/tokens.ts';
import { api, cleanup, signUp, startServer } from './helpers.ts';

afterEach(cleanup);

describe('accounts over HTTP', () => {
  it('signs up, then signs in with the same password', async () => {
    const { url } = await startServer();
    const session = await signUp(url, 'alice');
    expect(session).toMatchObject({ user: 'alice', device: 'test-device', profile: { id: 'alice', nickname: 'alice' } });
    expect(session.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const signIn = await api<Session>(url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'd2' });
    expect(signIn.status).toBe(200);
    expect(signIn.body.device).toBe('d2');
  });

  it('refuses a taken user id with user-exists', async () => {
    const { url } = await startServer();
    await signUp(url, 'alice');
    const again = await api(url, 'POST', '/auth/signup', { user: 'alice', password: 'another one', device: 'd' });
    expect(again).toEqual({ status: 409, body: { error: { code: 'user-exists', message: expect.any(String) as string } } });
  });

  it('refuses a bad password and an unknown user alike with bad-credentials', async () => {
    const { url } = await startServer();
    await signUp(url, 'alice');
    for (const user of ['alice', 'nobody']) {
      const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/signin', { user, password: 'wrong password', device: 'd' });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('bad-credentials');
    }
  });

  it('refuses a malformed body with bad-request', async () => {
    const { url } = await startServer();
    const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/signup', { user: 'no spaces allowed', password: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad-request');
  });

  it('signs in with an app token and creates the user on first use', async () => {
    const { url, config } = await startServer();
    const { appSecret } = config;
    const first = await api<Session>(url, 'POST', '/auth/app-token', { appToken: await mintAppToken(appSecret, 'carol'), device: 'd' });
    expect(first.status).toBe(200);
    expect(first.body.profile).toEqual({ id: 'carol', nickname: 'carol' });
    const again = await api<Session>(url, 'POST', '/auth/app-token', { appToken: await mintAppToken(appSecret, 'carol'), device: 'd' });
    expect(again.status).toBe(200);
    const forged = await api<{ error: { code: string } }>(url, 'POST', '/auth/app-token', {
      appToken: await mintAppToken('not-the-app-secret-at-all', 'carol'),
      device: 'd',
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('app-token-invalid');
  });

  it('refreshes a session, reads and edits the profile, looks up users', async () => {
    const { url } = await startServer();
    const alice = await signUp(url, 'alice');
    await signUp(url, 'bob');
    // Refreshing takes the session's refresh token (no access token); sessions.test.ts covers rotation and its refusals.
    const refreshed = await api<Session>(url, 'POST', '/auth/refresh', { refreshToken: alice.refreshToken, device: 'test-device' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user).toBe('alice');
    const unknown = await api<{ error: { code: string } }>(url, 'POST', '/auth/refresh', { refreshToken: 'nope.nope', device: 'x' });
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'refresh-invalid']);

    const patched = await api<ProfileEntry>(url, 'PATCH', '/me', { nickname: 'Alice A.' }, refreshed.body.accessToken);
    expect(patched.body).toEqual({ id: 'alice', nickname: 'Alice A.' });
    expect((await api<ProfileEntry>(url, 'GET', '/me', undefined, alice.accessToken)).body.nickname).toBe('Alice A.');
    expect((await api(url, 'GET', '/users/bob', undefined, alice.accessToken)).body).toEqual({ id: 'bob', nickname: 'bob' });
    const missing = await api<{ error: { code: string } }>(url, 'GET', '/users/zed', undefined, alice.accessToken);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'user-not-found']);
    const noToken = await api<{ error: { code: string } }>(url, 'GET', '/me');
    expect([noToken.status, noToken.body.error.code]).toEqual([401, 'token-missing']);
    expect((await api(url, 'GET', '/health')).body).toEqual({ ok: true });
  });
});
