/**
 * Accounts against a hostile new user (issue 12): reserved and look-alike ids,
 * invisible characters in names, weak passwords, brute force and floods. A
 * real server on port 0; client addresses are told apart through
 * X-Forwarded-For with PARLEY_TRUST_PROXY=1, as behind one reverse proxy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, conversationPath, inboxPath, type ProfileEntry, type Session } from '@parley/protocol';
import { mintAppToken } from '../src/auth/tokens.ts';
import { api, cleanup, openDoc, signUp, startServer, thisSegment, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);

type Answer<T = { error: { code: string; message: string } }> = { status: number; headers: Headers; body: T };

/** An API call from client address `from` (X-Forwarded-For), with optional extra headers. */
async function call<T = { error: { code: string; message: string } }>(
  url: string,
  method: string,
  path: string,
  body: unknown,
  from: string,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(`${url}${API_PREFIX}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...headers },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

const PASSWORD = 'correct horse';
const signUpBody = (user: string, extra: Record<string, unknown> = {}) => ({ user, password: PASSWORD, device: 'd', ...extra });
const signIn = (url: string, user: string, password: string, from = '203.0.113.1') => call<Session & { error: { code: string } }>(url, 'POST', '/auth/signin', { user, password, device: 'd' }, from);
const adminApi = <T = { error: { code: string; message: string } }>(server: TestServer, method: string, path: string, body?: unknown) =>
  api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);

/** Expects a 429 `rate-limited` answer with a Retry-After of whole seconds; returns them. */
function expectRateLimited(answer: Answer<{ error: { code: string } }>): number {
  expect(answer.status).toBe(429);
  expect(answer.body.error.code).toBe('rate-limited');
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  return retryAfter;
}

describe('reserved user ids', () => {
  it('refuses @-ids, "." and ".." at sign-up with user-id-reserved', async () => {
    const { url } = await startServer();
    for (const user of ['@server', '@admin', '@bob', '.', '..']) {
      const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/signup', signUpBody(user));
      expect(res.status, user).toBe(400);
      expect(res.body.error.code, user).toBe('user-id-reserved');
    }
    expect((await api(url, 'POST', '/auth/signup', signUpBody('a.b'))).status).toBe(201);
  });

  it('refuses a reserved id in an admin account import, creating none of the batch', async () => {
    const server = await startServer();
    const res = await adminApi(server, 'POST', '/accounts', { accounts: [{ id: 'fine' }, { id: '@server' }] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('user-id-reserved');
    expect(res.body.error.message).toContain('@server');
    expect((await adminApi<{ created: string[] }>(server, 'POST', '/accounts', { accounts: [{ id: 'fine' }] })).body.created).toEqual(['fine']);
  });

  it('refuses an app token for a reserved id', async () => {
    const { url, config } = await startServer();
    for (const user of ['@admin', '..']) {
      const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/app-token', { appToken: await mintAppToken(config.appSecret, user), device: 'd' });
      expect(res.status, user).toBe(400);
      expect(res.body.error.code, user).toBe('user-id-reserved');
    }
  });
});

describe('ids unique regardless of case', () => {
  it('refuses Bob at sign-up when bob exists, and keeps the case a user typed', async () => {
    const { url } = await startServer();
    await signUp(url, 'bob');
    const clash = await api<{ error: { code: string } }>(url, 'POST', '/auth/signup', signUpBody('Bob'));
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('user-exists');
    const alice = await signUp(url, 'AliceW');
    expect(alice.user).toBe('AliceW');
    expect(alice.profile).toEqual({ id: 'AliceW', nickname: 'AliceW' });
  });

  it('signs in with the id in another case, to the stored id', async () => {
    const { url } = await startServer();
    await signUp(url, 'AliceW');
    const res = await signIn(url, 'alicew', PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body.user).toBe('AliceW');
    const me = await api<ProfileEntry>(url, 'GET', '/me', undefined, res.body.accessToken);
    expect(me.body.id).toBe('AliceW');
  });

  it('refuses Bob in an admin import when bob exists, or twice in one batch, creating none', async () => {
    const server = await startServer();
    await signUp(server.url, 'bob');
    const clash = await adminApi(server, 'POST', '/accounts', { accounts: [{ id: 'carol' }, { id: 'Bob' }] });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('user-exists');
    const twice = await adminApi(server, 'POST', '/accounts', { accounts: [{ id: 'dave' }, { id: 'DAVE' }] });
    expect(twice.status).toBe(409);
    const again = await adminApi<{ created: string[]; existing: string[] }>(server, 'POST', '/accounts', { accounts: [{ id: 'carol' }, { id: 'dave' }, { id: 'bob' }] });
    expect(again.body).toEqual({ created: ['carol', 'dave'], existing: ['bob'] });
  });

  it('refuses an app token for Bob when bob exists', async () => {
    const { url, config } = await startServer();
    await signUp(url, 'bob');
    const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/app-token', { appToken: await mintAppToken(config.appSecret, 'Bob'), device: 'd' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('user-exists');
    const own = await api<Session>(url, 'POST', '/auth/app-token', { appToken: await mintAppToken(config.appSecret, 'bob'), device: 'd' });
    expect(own.body.user).toBe('bob');
  });
});

describe('nicknames and file names', () => {
  it('refuses a nickname with nothing visible, at sign-up, PATCH /me and admin import', async () => {
    const server = await startServer();
    const { url } = server;
    for (const nickname of ['\u200B\u200B', ' \u202E ', '\u3164']) {
      const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/signup', signUpBody('alice', { nickname }));
      expect(res.body.error.code, JSON.stringify(nickname)).toBe('nickname-invalid');
    }
    const alice = await signUp(url, 'alice');
    const patch = await api<{ error: { code: string } }>(url, 'PATCH', '/me', { nickname: '\u2066\u2069' }, alice.accessToken);
    expect(patch.status).toBe(400);
    expect(patch.body.error.code).toBe('nickname-invalid');
    const imported = await adminApi(server, 'POST', '/accounts', { accounts: [{ id: 'carol', nickname: '\uFEFF' }] });
    expect(imported.body.error.code).toBe('nickname-invalid');
  });

  it('strips bidi, zero-width and control characters from nicknames, keeping emoji sequences', async () => {
    const server = await startServer();
    const { url } = server;
    const res = await api<Session>(url, 'POST', '/auth/signup', signUpBody('alice', { nickname: 'Al\u202Eice\u200B\u0007 👩‍💻' }));
    expect(res.body.profile.nickname).toBe('Alice 👩‍💻');
    const patched = await api<ProfileEntry>(url, 'PATCH', '/me', { nickname: '\u2067Bo\u200Db\u2069 🏳️‍🌈' }, res.body.accessToken);
    expect(patched.body.nickname).toBe('Bob 🏳️‍🌈');
    await adminApi(server, 'POST', '/accounts', { accounts: [{ id: 'carol', nickname: 'Ca\u2060rol\u200F' }] });
    expect((await api<ProfileEntry>(url, 'GET', '/users/carol', undefined, res.body.accessToken)).body.nickname).toBe('Carol');
  });

  it('strips zero-width and bidi characters from an uploaded file name', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const name = encodeURIComponent('repo\u200Brt\u202Efdp.exe');
    const upload = await fetch(`${server.url}${API_PREFIX}/media?kind=file&peer=bob&mime=text/plain&name=${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/octet-stream' },
      body: 'hello',
    });
    expect(upload.status).toBeLessThan(300);
    const { media } = (await upload.json()) as { media: { hash: string } };
    const got = await fetch(`${server.url}${API_PREFIX}/media/${media.hash}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(got.headers.get('content-disposition')).toBe(`attachment; filename*=UTF-8''reportfdp.exe`);
  });
});

describe('passwords', () => {
  it('refuses a short password, the user id and a common password with password-too-weak', async () => {
    const { url } = await startServer();
    for (const [user, password] of [
      ['alice', 'x7#kq9z'],
      ['Jonathan99', 'jonathan99'],
      ['alice', 'Password1'],
      ['alice', 'iloveyou'],
    ] as const) {
      const res = await api<{ error: { code: string } }>(url, 'POST', '/auth/signup', { user, password, device: 'd' });
      expect(res.status, password).toBe(400);
      expect(res.body.error.code, password).toBe('password-too-weak');
    }
    expect((await api(url, 'POST', '/auth/signup', { user: 'alice', password: 'x7#kq9zw', device: 'd' })).status).toBe(201);
  });
});

describe('sign-in limits', () => {
  it('blocks an account from one address after consecutive failures, even with the right password, and not from another', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '3', PARLEY_SIGNIN_BLOCK_SECONDS: '600' } });
    await signUp(url, 'alice');
    for (let i = 0; i < 3; i++) expect((await signIn(url, 'alice', 'wrong password')).status).toBe(401);
    expect(expectRateLimited(await signIn(url, 'ALICE', PASSWORD))).toBeGreaterThan(500);
    expect((await signIn(url, 'alice', PASSWORD, '198.51.100.7')).status).toBe(200);
  });

  it('backs off: each block of the same account and address lasts twice as long as the one before', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '2', PARLEY_SIGNIN_BLOCK_SECONDS: '1' } });
    await signUp(url, 'alice');
    for (let i = 0; i < 2; i++) await signIn(url, 'alice', 'wrong password');
    expect(expectRateLimited(await signIn(url, 'alice', 'wrong password'))).toBe(1);
    // Once the block is over (polled: a refused attempt counts nothing), the next failure starts the next streak.
    let next: Answer<{ error: { code: string } }> | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      next = await signIn(url, 'alice', 'wrong password');
      if (next.status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(next?.status).toBe(401);
    await signIn(url, 'alice', 'wrong password');
    expect(expectRateLimited(await signIn(url, 'alice', 'wrong password'))).toBe(2);
  });

  it('forgets the failure streak of an account and address on success', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '3' } });
    await signUp(url, 'alice');
    for (let i = 0; i < 2; i++) expect((await signIn(url, 'alice', 'wrong password')).status).toBe(401);
    expect((await signIn(url, 'alice', PASSWORD)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await signIn(url, 'alice', 'wrong password')).status).toBe(401);
    expect((await signIn(url, 'alice', PASSWORD)).status).toBe(200);
  });

  it('limits failures per account over all addresses', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ACCOUNT: '3' } });
    await signUp(url, 'alice');
    for (let i = 0; i < 3; i++) expect((await signIn(url, 'alice', 'wrong password', `198.51.100.${i + 1}`)).status).toBe(401);
    expectRateLimited(await signIn(url, 'alice', PASSWORD, '198.51.100.99'));
    expect((await signIn(url, 'bob', 'wrong password', '198.51.100.99')).status).toBe(401);
  });

  it('limits failures per client address over all accounts, known or not', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNIN_FAILS_PER_ADDRESS: '3' } });
    await signUp(url, 'alice');
    for (const user of ['nobody', 'bob', 'carol']) expect((await signIn(url, user, 'wrong password')).status).toBe(401);
    expectRateLimited(await signIn(url, 'alice', PASSWORD));
    expect((await signIn(url, 'alice', PASSWORD, '198.51.100.7')).status).toBe(200);
  });
});

describe('sign-up and admin key limits', () => {
  it('limits sign-ups per client address', async () => {
    const { url } = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_SIGNUPS_PER_ADDRESS: '2' } });
    for (const user of ['u1', 'u2']) expect((await call(url, 'POST', '/auth/signup', signUpBody(user), '203.0.113.5')).status).toBe(201);
    expectRateLimited(await call(url, 'POST', '/auth/signup', signUpBody('u3'), '203.0.113.5'));
    expect((await call(url, 'POST', '/auth/signup', signUpBody('u3'), '203.0.113.6')).status).toBe(201);
  });

  it('takes the client address from the connection, not X-Forwarded-For, unless told to trust a proxy', async () => {
    const { url } = await startServer({ env: { PARLEY_SIGNUPS_PER_ADDRESS: '1' } });
    expect((await call(url, 'POST', '/auth/signup', signUpBody('u1'), '203.0.113.5')).status).toBe(201);
    expectRateLimited(await call(url, 'POST', '/auth/signup', signUpBody('u2'), '203.0.113.6'));
  });

  it('refuses every admin attempt from an address after too many wrong keys, the right key too', async () => {
    const server = await startServer({ env: { PARLEY_TRUST_PROXY: '1', PARLEY_ADMIN_KEY_FAILS_PER_ADDRESS: '2' } });
    const { url } = server;
    const key = server.config.adminKey;
    for (let i = 0; i < 2; i++) expect((await call(url, 'GET', '/admin/settings', undefined, '203.0.113.9', { 'x-admin-key': `wrong-key-${i}-xxxxxxxxxx` })).status).toBe(403);
    expectRateLimited(await call(url, 'GET', '/admin/settings', undefined, '203.0.113.9', { 'x-admin-key': key }));
    expectRateLimited(await call(url, 'GET', '/admin/settings', undefined, '203.0.113.9', { authorization: `Bearer ${key}` }));
    expect((await call(url, 'GET', '/admin/settings', undefined, '203.0.113.10', { 'x-admin-key': key })).status).toBe(200);
  });
});

describe('socket upgrade limit', () => {
  it('refuses a user’s upgrades past the limit with a rate-limited frame and close 4429, not other users’', async () => {
    const server = await startServer({ env: { PARLEY_SOCKET_UPGRADES_PER_USER: '2' } });
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const first = openDoc(server, inboxPath('alice'), alice.accessToken);
    const second = openDoc(server, path, alice.accessToken);
    await waitFor(() => first.provider.synced && second.provider.synced, 'two sockets');
    const third = openDoc(server, path, alice.accessToken);
    await waitFor(() => third.frames.some((f) => f.type === 'refused') && third.closeCode !== null, 'the third refused');
    third.provider.shouldConnect = false;
    const refused = third.frames.find((f) => f.type === 'refused');
    expect(refused).toMatchObject({ type: 'refused', code: 'rate-limited' });
    expect(refused?.type === 'refused' ? refused.retryAfter : undefined).toBeGreaterThanOrEqual(1);
    expect(third.closeCode).toBe(4429);
    expect(third.syncFrames).toBe(0);
    const bobs = openDoc(server, path, bob.accessToken);
    await waitFor(() => bobs.provider.synced, 'bob unaffected');
  });
});

describe('unknown and known ids take the same time to refuse', () => {
  it('refuses an unknown id in about the time of a wrong password (medians, generous ratio)', async () => {
    const { url } = await startServer({ env: { PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '1000', PARLEY_SIGNIN_FAILS_PER_ACCOUNT: '1000', PARLEY_SIGNIN_FAILS_PER_ADDRESS: '1000' } });
    await signUp(url, 'alice');
    const median = async (user: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const start = performance.now();
        expect((await signIn(url, user, 'wrong password')).status).toBe(401);
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[3] ?? 0;
    };
    // Interleaved, so that load on the machine falls on both alike.
    const known = await median('alice');
    const unknown = await median('nobody');
    const knownAgain = await median('alice');
    const ratio = unknown / Math.min(known, knownAgain);
    // Without the dummy verification an unknown id answers in about a millisecond, a wrong password after a ~50 ms scrypt.
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(4);
  });
});
