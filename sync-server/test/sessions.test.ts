/** Sessions that end: sign-out, refresh rotation and theft detection, password change, the list of devices. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES, type Session, type SessionInfo } from '@parley/protocol';
import { api, cleanup, openDoc, sessionIdOf, signUp, startServer, synced, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);

type ErrorBody = { error: { code: string } };

const signIn = async (url: string, user: string, device: string, userAgent?: string): Promise<Session> => {
  const response = await fetch(`${url}/api/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(userAgent === undefined ? {} : { 'user-agent': userAgent }) },
    body: JSON.stringify({ user, password: 'correct horse', device }),
  });
  if (response.status !== 200) throw new Error(`sign-in of ${user} failed: ${response.status}`);
  return (await response.json()) as Session;
};

const refresh = (url: string, refreshToken: string, device: string) => api<Session & ErrorBody>(url, 'POST', '/auth/refresh', { refreshToken, device });
const me = (url: string, session: Session) => api<ErrorBody>(url, 'GET', '/me', undefined, session.accessToken);
const codeOf = (res: { status: number; body: unknown }): [number, string | undefined] => [res.status, (res.body as Partial<ErrorBody>).error?.code];

/** A socket on the user's inbox, synced. */
async function inboxSocket(server: TestServer, session: Session) {
  const client = openDoc(server, `inbox/${session.user}`, session.accessToken);
  await synced(client);
  return client;
}

describe('sessions', () => {
  it('sign-out refuses the access token on the next request and closes that session\'s sockets, not the others\'', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    const laptop = await signIn(server.url, 'alice', 'laptop');
    const phoneSocket = await inboxSocket(server, phone);
    const laptopSocket = await inboxSocket(server, laptop);

    const out = await api(server.url, 'POST', '/auth/signout', undefined, phone.accessToken);
    expect(out.status).toBe(204);
    expect(codeOf(await me(server.url, phone))).toEqual([401, 'session-revoked']);

    await waitFor(() => phoneSocket.closeCode !== null, 'the signed-out session\'s socket to close');
    expect(phoneSocket.closeCode).toBe(CLOSE_CODES.unauthorized);
    expect(phoneSocket.frames.find((f) => f.type === 'refused')).toMatchObject({ type: 'refused', code: 'session-revoked' });
    // A new socket with the dead token is refused as well.
    const again = openDoc(server, 'inbox/alice', phone.accessToken);
    await waitFor(() => again.closeCode !== null, 'a socket with the dead token to be refused');
    expect(again.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['session-revoked']);
    expect(again.syncFrames).toBe(0);

    // The other session goes on: its socket stays open and its token works.
    expect(laptopSocket.closeCode).toBeNull();
    expect(laptopSocket.provider.wsconnected).toBe(true);
    expect((await me(server.url, laptop)).status).toBe(200);
    const fresh = await inboxSocket(server, laptop);
    expect(fresh.closeCode).toBeNull();
  });

  it('a signed-out session cannot refresh', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    await api(server.url, 'POST', '/auth/signout', undefined, phone.accessToken);
    expect(codeOf(await refresh(server.url, phone.refreshToken, 'phone'))).toEqual([401, 'refresh-invalid']);
  });

  it('a refresh rotates the refresh token and keeps the session (no access token needed)', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    const next = await refresh(server.url, phone.refreshToken, 'phone');
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ user: 'alice', device: 'phone', profile: { id: 'alice' } });
    expect(next.body.refreshToken).not.toBe(phone.refreshToken);
    expect(sessionIdOf(next.body)).toBe(sessionIdOf(phone));
    expect((await me(server.url, next.body)).status).toBe(200);
    // The new one works once more; the media cookie comes with every answer.
    const response = await fetch(`${server.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: next.body.refreshToken, device: 'phone' }),
    });
    expect(response.status).toBe(200);
    const third = (await response.json()) as Session;
    expect(response.headers.get('set-cookie')).toContain(`parley_media=${third.accessToken}`);
  });

  it('a refresh token used again after its rotation revokes the whole session (theft detection)', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    const other = await signIn(server.url, 'alice', 'laptop');
    const next = await refresh(server.url, phone.refreshToken, 'phone');
    expect(next.status).toBe(200);
    const socket = await inboxSocket(server, next.body);

    // Someone replays the first token: refused, and the session ends for everyone holding it.
    expect(codeOf(await refresh(server.url, phone.refreshToken, 'phone'))).toEqual([401, 'refresh-invalid']);
    expect(codeOf(await me(server.url, next.body))).toEqual([401, 'session-revoked']);
    expect(codeOf(await refresh(server.url, next.body.refreshToken, 'phone'))).toEqual([401, 'refresh-invalid']);
    await waitFor(() => socket.closeCode !== null, 'the stolen session\'s socket to close');
    expect(socket.closeCode).toBe(CLOSE_CODES.unauthorized);
    // Another session of the user is untouched.
    expect((await me(server.url, other)).status).toBe(200);
  });

  it('refuses a refresh that names another device, and the token still works on its own device', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    expect(codeOf(await refresh(server.url, phone.refreshToken, 'laptop'))).toEqual([401, 'refresh-invalid']);
    expect((await refresh(server.url, phone.refreshToken, 'phone')).status).toBe(200);
  });

  it('a password change signs out every other session but not the current one', async () => {
    const server = await startServer();
    const phone = await signUp(server.url, 'alice', 'phone');
    const laptop = await signIn(server.url, 'alice', 'laptop');
    const tablet = await signIn(server.url, 'alice', 'tablet');
    const bob = await signUp(server.url, 'bob', 'phone');
    const laptopSocket = await inboxSocket(server, laptop);

    const wrong = await api(server.url, 'POST', '/me/password', { current: 'not my password', password: 'a new secret' }, phone.accessToken);
    expect(codeOf(wrong)).toEqual([401, 'bad-credentials']);
    expect((await me(server.url, laptop)).status).toBe(200);
    // The sign-up password policy holds for a new password too, and a refusal signs nobody out.
    for (const weak of ['short', 'iloveyou', 'password1']) {
      const refused = await api(server.url, 'POST', '/me/password', { current: 'correct horse', password: weak }, phone.accessToken);
      expect(codeOf(refused), weak).toEqual([400, 'password-too-weak']);
    }
    expect((await me(server.url, laptop)).status).toBe(200);

    const changed = await api(server.url, 'POST', '/me/password', { current: 'correct horse', password: 'a new secret' }, phone.accessToken);
    expect(changed).toEqual({ status: 200, body: { signedOut: 2 } });
    expect((await me(server.url, phone)).status).toBe(200);
    expect((await refresh(server.url, phone.refreshToken, 'phone')).status).toBe(200);
    for (const gone of [laptop, tablet]) {
      expect(codeOf(await me(server.url, gone))).toEqual([401, 'session-revoked']);
      expect(codeOf(await refresh(server.url, gone.refreshToken, gone.device))).toEqual([401, 'refresh-invalid']);
    }
    await waitFor(() => laptopSocket.closeCode !== null, 'the other session\'s socket to close');
    expect((await me(server.url, bob)).status).toBe(200);

    // The new password signs in; the old one no longer does.
    const old = await api(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'x' });
    expect(codeOf(old)).toEqual([401, 'bad-credentials']);
    const fresh = await api(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'a new secret', device: 'x' });
    expect(fresh.status).toBe(200);
  });

  it('lists the signed-in devices and signs another one out; another user\'s session is not found', async () => {
    const server = await startServer();
    await signUp(server.url, 'alice', 'setup');
    const phone = await signIn(server.url, 'alice', 'phone', 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0');
    const laptop = await signIn(server.url, 'alice', 'laptop', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
    const bob = await signUp(server.url, 'bob', 'phone');

    const listed = await api<{ sessions: SessionInfo[] }>(server.url, 'GET', '/me/sessions', undefined, laptop.accessToken);
    expect(listed.status).toBe(200);
    const byDevice = Object.fromEntries(listed.body.sessions.map((s) => [s.device, s]));
    expect(Object.keys(byDevice).sort()).toEqual(['laptop', 'phone', 'setup']);
    expect(byDevice.phone).toMatchObject({ id: sessionIdOf(phone), label: 'Firefox on Android', current: false });
    expect(byDevice.laptop).toMatchObject({ id: sessionIdOf(laptop), label: 'Chrome on Linux', current: true });
    expect(byDevice.laptop?.lastUsed).toBeGreaterThanOrEqual(byDevice.laptop?.created ?? Infinity);
    expect(JSON.stringify(listed.body)).not.toContain(phone.refreshToken);

    // Bob cannot sign Alice's phone out, nor learn whether the id exists.
    const foreign = await api(server.url, 'DELETE', `/me/sessions/${sessionIdOf(phone)}`, undefined, bob.accessToken);
    expect(codeOf(foreign)).toEqual([404, 'not-found']);
    expect((await me(server.url, phone)).status).toBe(200);

    const phoneSocket = await inboxSocket(server, phone);
    expect((await api(server.url, 'DELETE', `/me/sessions/${sessionIdOf(phone)}`, undefined, laptop.accessToken)).status).toBe(204);
    expect(codeOf(await me(server.url, phone))).toEqual([401, 'session-revoked']);
    await waitFor(() => phoneSocket.closeCode !== null, 'the signed-out phone\'s socket to close');
    expect(codeOf(await refresh(server.url, phone.refreshToken, 'phone'))).toEqual([401, 'refresh-invalid']);
    const after = await api<{ sessions: SessionInfo[] }>(server.url, 'GET', '/me/sessions', undefined, laptop.accessToken);
    expect(after.body.sessions.map((s) => s.device).sort()).toEqual(['laptop', 'setup']);
  });

  it('keeps sessions and revocations across a restart', async () => {
    const first = await startServer();
    const phone = await signUp(first.url, 'alice', 'phone');
    const laptop = await signIn(first.url, 'alice', 'laptop');
    await api(first.url, 'POST', '/auth/signout', undefined, laptop.accessToken);
    await first.parley.close();

    const second = await startServer({ dataDir: first.dataDir });
    expect((await me(second.url, phone)).status).toBe(200);
    expect(codeOf(await me(second.url, laptop))).toEqual([401, 'session-revoked']);
    expect((await refresh(second.url, phone.refreshToken, 'phone')).status).toBe(200);
  });

  it('refuses an access token from before sessions (no sid) with token-invalid', async () => {
    const server = await startServer();
    await signUp(server.url, 'alice');
    const key = new TextEncoder().encode(readFileSync(join(server.dataDir, 'jwt-secret'), 'utf8').trim());
    const legacy = await new SignJWT({ dev: 'test-device' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('parley')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
      .sign(key);
    expect(codeOf(await api(server.url, 'GET', '/me', undefined, legacy))).toEqual([401, 'token-invalid']);
    const socket = openDoc(server, 'inbox/alice', legacy);
    await waitFor(() => socket.closeCode !== null, 'the legacy token to be refused');
    expect(socket.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['token-invalid']);
  });
});
