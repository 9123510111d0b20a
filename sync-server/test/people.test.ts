/** Finding people over real HTTP: the search and its limits, the discoverable setting, invite links. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_PREFIX, type ProfileEntry } from '@parley/protocol';
import { DATABASE_FILE } from '../src/storage/data-dir.ts';
import { api, cleanup, signUp, startServer, type TestServer } from './helpers.ts';

afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

type Page = { people: ProfileEntry[]; next: string | null };
type Refused = { error: { code: string } };

async function withNickname(server: TestServer, id: string, nickname: string): Promise<string> {
  const session = await signUp(server.url, id);
  expect((await api(server.url, 'PATCH', '/me', { nickname }, session.accessToken)).status).toBe(200);
  return session.accessToken;
}

const search = (server: TestServer, token: string, query: string) => api<Page & Refused>(server.url, 'GET', `/people?${query}`, undefined, token);
const ids = (page: Page): string[] => page.people.map((p) => p.id);

describe('people search', () => {
  it('finds ids by prefix regardless of case, keeping their case, and nicknames by the start of a word', async () => {
    const server = await startServer();
    const me = await withNickname(server, 'searcher', 'Me');
    await withNickname(server, 'AliceW', 'Alice Wonder');
    await withNickname(server, 'bob', 'Robert Alistair');
    await withNickname(server, 'carol', 'Carol Palisade');
    const page = (await search(server, me, 'q=ali')).body;
    expect(ids(page)).toEqual(['AliceW', 'bob']);
    expect(page.people[0]).toEqual({ id: 'AliceW', nickname: 'Alice Wonder' });
    expect(ids((await search(server, me, 'q=ALICEW')).body)).toEqual(['AliceW']);
    // Inside a word does not match: "lis" is in "Palisade" and "Alistair" but starts no word.
    expect(ids((await search(server, me, 'q=lis')).body)).toEqual([]);
    expect(ids((await search(server, me, 'q=pali')).body)).toEqual(['carol']);
    // The caller is not among the results.
    expect(ids((await search(server, me, 'q=searcher')).body)).toEqual([]);
  });

  it('needs at least 3 characters', async () => {
    const server = await startServer();
    const me = (await signUp(server.url, 'me')).accessToken;
    await signUp(server.url, 'ab');
    for (const q of ['', 'a', 'ab', '%20ab%20']) {
      const answer = await search(server, me, `q=${q}`);
      expect(answer.status, q).toBe(400);
      expect(answer.body.error.code, q).toBe('query-too-short');
    }
    expect((await search(server, me, 'q=abc')).status).toBe(200);
  });

  it('never returns a hidden user by prefix or nickname, only by their exact id (any case); the setting is on by default', async () => {
    const server = await startServer();
    const me = await withNickname(server, 'me', 'Me');
    const hidden = await withNickname(server, 'Hideaway', 'Hidden Person');
    expect((await api<{ discoverable: boolean }>(server.url, 'GET', '/me/privacy', undefined, hidden)).body).toMatchObject({ discoverable: true });
    expect(ids((await search(server, me, 'q=hide')).body)).toEqual(['Hideaway']);
    expect((await api(server.url, 'PATCH', '/me/privacy', { discoverable: false }, hidden)).body).toMatchObject({ discoverable: false });
    expect((await api(server.url, 'GET', '/me/privacy', undefined, hidden)).body).toMatchObject({ discoverable: false });
    expect(ids((await search(server, me, 'q=hide')).body)).toEqual([]);
    expect(ids((await search(server, me, 'q=hidden')).body)).toEqual([]);
    expect(ids((await search(server, me, 'q=person')).body)).toEqual([]);
    expect(ids((await search(server, me, 'q=hideaway')).body)).toEqual(['Hideaway']);
    expect((await api(server.url, 'PATCH', '/me/privacy', { discoverable: 'no' }, hidden)).status).toBe(400);
  });

  it('leaves out users the caller blocked and users who blocked the caller', async () => {
    const server = await startServer();
    const me = await withNickname(server, 'me', 'Me');
    await withNickname(server, 'zed1', 'Zed One');
    const zed2 = await withNickname(server, 'zed2', 'Zed Two');
    await withNickname(server, 'zed3', 'Zed Three');
    expect(ids((await search(server, me, 'q=zed')).body)).toEqual(['zed1', 'zed2', 'zed3']);
    expect((await api(server.url, 'PUT', '/blocklist/zed1', undefined, me)).status).toBe(200);
    expect((await api(server.url, 'PUT', '/blocklist/me', undefined, zed2)).status).toBe(200);
    expect(ids((await search(server, me, 'q=zed')).body)).toEqual(['zed3']);
    // Blocked or blocking, the exact id does not find them either.
    expect(ids((await search(server, me, 'q=zed2')).body)).toEqual([]);
  });

  it('pages by id: at most 20 a page, a cursor for the next', async () => {
    const server = await startServer();
    const me = (await signUp(server.url, 'me')).accessToken;
    const made = Array.from({ length: 23 }, (_, i) => `pal${String(i).padStart(2, '0')}`);
    for (const id of made) await signUp(server.url, id);
    expect((await search(server, me, 'q=pal&limit=21')).status).toBe(400);
    const first = (await search(server, me, 'q=pal')).body;
    expect(ids(first)).toEqual(made.slice(0, 20));
    expect(first.next).toBe('pal19');
    const second = (await search(server, me, `q=pal&cursor=${first.next}`)).body;
    expect(ids(second)).toEqual(made.slice(20));
    expect(second.next).toBeNull();
    const small = (await search(server, me, 'q=pal&limit=5&cursor=pal04')).body;
    expect(ids(small)).toEqual(made.slice(5, 10));
  });

  it('is rate-limited per user, with Retry-After (PARLEY_PEOPLE_SEARCHES_PER_USER)', async () => {
    const server = await startServer({ env: { PARLEY_PEOPLE_SEARCHES_PER_USER: '3' } });
    const me = (await signUp(server.url, 'me')).accessToken;
    const other = (await signUp(server.url, 'other')).accessToken;
    for (let i = 0; i < 3; i++) expect((await search(server, me, 'q=oth')).status).toBe(200);
    const refused = await fetch(`${server.url}${API_PREFIX}/people?q=oth`, { headers: { authorization: `Bearer ${me}` } });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as Refused).error.code).toBe('rate-limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Per user: another user still searches.
    expect((await search(server, other, 'q=me%20x')).status).toBe(200);
  });

  it('needs a signed-in caller', async () => {
    const server = await startServer();
    expect((await api<Refused>(server.url, 'GET', '/people?q=abc')).body.error.code).toBe('token-missing');
  });
});

type Created = { id: string; token: string; created: number; expires: number };

describe('invite links', () => {
  it('makes, lists, resolves without sign-in, accepts into a chat, and revokes', async () => {
    const server = await startServer();
    const alice = await withNickname(server, 'alice', 'Alice A');
    const bob = (await signUp(server.url, 'bob')).accessToken;
    const made = await api<Created>(server.url, 'POST', '/invites', undefined, alice);
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // Seven days by default.
    expect(made.body.expires - made.body.created).toBe(7 * 24 * 3600_000);
    const listed = (await api<{ invites: object[] }>(server.url, 'GET', '/invites', undefined, alice)).body.invites;
    expect(listed).toEqual([{ id: made.body.id, created: made.body.created, expires: made.body.expires }]);
    expect(JSON.stringify(listed)).not.toContain(made.body.token);

    const resolved = await api(server.url, 'POST', '/invites/resolve', { token: made.body.token });
    expect(resolved).toEqual({ status: 200, body: { inviter: { id: 'alice', nickname: 'Alice A' }, expires: made.body.expires } });
    expect((await api(server.url, 'POST', '/invites/accept', { token: made.body.token }, bob)).body).toEqual({ inviter: { id: 'alice', nickname: 'Alice A' }, outcome: 'chat' });
    expect((await api<Refused>(server.url, 'POST', '/invites/accept', { token: made.body.token }, alice)).body.error.code).toBe('invite-own');

    expect((await api<Refused>(server.url, 'DELETE', `/invites/${made.body.id}`, undefined, bob)).body.error.code).toBe('invite-not-found');
    expect((await api(server.url, 'DELETE', `/invites/${made.body.id}`, undefined, alice)).status).toBe(200);
    const revoked = await api<Refused>(server.url, 'POST', '/invites/resolve', { token: made.body.token });
    expect(revoked.status).toBe(404);
    expect(revoked.body.error.code).toBe('invite-not-found');
    expect((await api<Refused>(server.url, 'POST', '/invites/accept', { token: made.body.token }, bob)).body.error.code).toBe('invite-not-found');
    expect((await api(server.url, 'GET', '/invites', undefined, alice)).body).toEqual({ invites: [] });
    expect((await api<Refused>(server.url, 'POST', '/invites/resolve', { token: 'x'.repeat(32) })).body.error.code).toBe('invite-not-found');
  });

  it('stores only a hash of the token', async () => {
    const server = await startServer();
    const alice = (await signUp(server.url, 'alice')).accessToken;
    const made = (await api<Created>(server.url, 'POST', '/invites', undefined, alice)).body;
    const db = new Database(join(server.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const rows = db.prepare<[], Record<string, unknown>>('SELECT * FROM invites').all();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(made.token);
      expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      db.close();
    }
  });

  it('expires after PARLEY_INVITE_TTL_DAYS: invite-expired, and it no longer counts as live', async () => {
    const server = await startServer({ env: { PARLEY_INVITE_TTL_DAYS: '2', PARLEY_MAX_INVITES_PER_USER: '1' } });
    const alice = (await signUp(server.url, 'alice')).accessToken;
    const made = (await api<Created>(server.url, 'POST', '/invites', undefined, alice)).body;
    expect(made.expires - made.created).toBe(2 * 24 * 3600_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(made.expires + 1);
    // Access tokens from before the jump have expired too: sessions of the new time.
    const bob = (await signUp(server.url, 'bob')).accessToken;
    const again = await api<{ accessToken: string }>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'later' });
    const aliceLater = again.body.accessToken;
    const expired = await api<Refused>(server.url, 'POST', '/invites/resolve', { token: made.token });
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('invite-expired');
    expect((await api<Refused>(server.url, 'POST', '/invites/accept', { token: made.token }, bob)).body.error.code).toBe('invite-expired');
    expect((await api(server.url, 'GET', '/invites', undefined, aliceLater)).body).toEqual({ invites: [] });
    expect((await api(server.url, 'POST', '/invites', undefined, aliceLater)).status).toBe(201);
  });

  it('caps live invites per user (PARLEY_MAX_INVITES_PER_USER): too-many-invites until one is revoked', async () => {
    const server = await startServer({ env: { PARLEY_MAX_INVITES_PER_USER: '2' } });
    const alice = (await signUp(server.url, 'alice')).accessToken;
    const made = await Promise.all([0, 1, 2].map(() => api<Created & Refused>(server.url, 'POST', '/invites', undefined, alice)));
    // Made at once: exactly two get through.
    expect(made.map((m) => m.status).sort()).toEqual([201, 201, 409]);
    expect(made.find((m) => m.status === 409)?.body.error.code).toBe('too-many-invites');
    const first = made.find((m) => m.status === 201)?.body;
    expect((await api(server.url, 'DELETE', `/invites/${first?.id}`, undefined, alice)).status).toBe(200);
    expect((await api(server.url, 'POST', '/invites', undefined, alice)).status).toBe(201);
  });

  it('sends the inviter a friend request when the install is friends-only, and opens the chat once they are friends', async () => {
    const server = await startServer();
    const admin = (method: string, path: string, body?: unknown) => api(server.url, method, `/admin${path}`, body, server.config.adminKey);
    expect((await admin('PUT', '/settings', { messaging: 'friends' })).status).toBe(200);
    const alice = (await signUp(server.url, 'alice')).accessToken;
    const bob = (await signUp(server.url, 'bob')).accessToken;
    const { token } = (await api<Created>(server.url, 'POST', '/invites', undefined, alice)).body;
    expect((await api(server.url, 'POST', '/invites/accept', { token }, bob)).body).toMatchObject({ inviter: { id: 'alice' }, outcome: 'friend-request' });
    expect((await api(server.url, 'GET', '/friends/requests', undefined, alice)).body).toMatchObject({ incoming: [{ from: 'bob', note: 'Joined with your invite link' }] });
    // Again: still one request, not an error.
    expect((await api(server.url, 'POST', '/invites/accept', { token }, bob)).body).toMatchObject({ outcome: 'friend-request' });
    expect((await api(server.url, 'POST', '/friends/requests/bob/accept', undefined, alice)).status).toBe(200);
    expect((await api(server.url, 'POST', '/invites/accept', { token }, bob)).body).toMatchObject({ outcome: 'chat' });
  });
});
