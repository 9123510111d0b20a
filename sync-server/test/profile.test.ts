/**
 * The profile (issue 17): the "about" line (cleaned like nicknames, at most
 * 140 characters, reaching peers through their inboxes), avatars uploaded
 * without a conversation and set with PATCH /me, and removing an avatar.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, conversationPath, inboxPath, LIMITS, type ProfileEntry, type UploadDone } from '@parley/protocol';
import { api, cleanup, message, openDoc, send, signUp, startServer, synced, thisSegment, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);

type Refused = { error: { code: string } };

/** A one-shot upload (`POST /media?…`) of `bytes`, without a peer unless `query` names one. */
async function upload(server: TestServer, token: string, query: string, bytes: Uint8Array): Promise<{ status: number; body: UploadDone & Refused }> {
  const response = await fetch(`${server.url}${API_PREFIX}/media?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  return { status: response.status, body: (await response.json()) as UploadDone & Refused };
}

const PIXEL = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4]);

describe('the about line', () => {
  it('is cleaned like a nickname, kept, and removed when nothing visible is left', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const patched = await api<ProfileEntry>(server.url, 'PATCH', '/me', { about: '  Hi\u202E there\u200B\u0007 👩‍💻 ' }, alice.accessToken);
    expect(patched.status).toBe(200);
    expect(patched.body.about).toBe('Hi there 👩‍💻');
    expect((await api<ProfileEntry>(server.url, 'GET', '/me', undefined, alice.accessToken)).body.about).toBe('Hi there 👩‍💻');
    // A nickname change keeps it.
    expect((await api<ProfileEntry>(server.url, 'PATCH', '/me', { nickname: 'Al' }, alice.accessToken)).body).toMatchObject({ nickname: 'Al', about: 'Hi there 👩‍💻' });
    const blank = await api<ProfileEntry>(server.url, 'PATCH', '/me', { about: '\u200B \u2066\u2069' }, alice.accessToken);
    expect(blank.body).toEqual({ id: 'alice', nickname: 'Al' });
  });

  it(`refuses an about line over ${LIMITS.aboutLength} characters`, async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const fits = await api<ProfileEntry>(server.url, 'PATCH', '/me', { about: 'a'.repeat(LIMITS.aboutLength) }, alice.accessToken);
    expect(fits.body.about).toHaveLength(LIMITS.aboutLength);
    const long = await api<Refused>(server.url, 'PATCH', '/me', { about: 'a'.repeat(LIMITS.aboutLength + 1) }, alice.accessToken);
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('bad-request');
  });

  it("reaches a peer's inbox profile and GET /users/:id", async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const chat = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    await synced(chat);
    const bobInbox = openDoc(server, inboxPath('bob'), bob.accessToken);
    await synced(bobInbox);
    send(chat, message('alice', 'bob', 'hello'));
    const profiles = bobInbox.doc.getMap<ProfileEntry>('profiles');
    await waitFor(() => profiles.get('alice') !== undefined, "alice in bob's profiles");
    await api(server.url, 'PATCH', '/me', { about: 'Out climbing' }, alice.accessToken);
    await waitFor(() => profiles.get('alice')?.about === 'Out climbing', "the about line in bob's inbox");
    expect((await api<ProfileEntry>(server.url, 'GET', '/users/alice', undefined, bob.accessToken)).body.about).toBe('Out climbing');
  });
});

describe('avatars', () => {
  it('uploads an avatar without a peer, sets it, and removes it with avatar: null', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const done = await upload(server, alice.accessToken, 'kind=image&mime=image/webp', PIXEL);
    expect(done.status).toBe(201);
    const set = await api<ProfileEntry>(server.url, 'PATCH', '/me', { avatar: done.body.url }, alice.accessToken);
    expect(set.body.avatar).toBe(done.body.url);
    // Anyone signed in may read an avatar.
    const seen = await fetch(`${server.url}${done.body.url}`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    expect(seen.status).toBe(200);
    expect(seen.headers.get('content-type')).toBe('image/webp');
    const removed = await api<ProfileEntry>(server.url, 'PATCH', '/me', { avatar: null }, alice.accessToken);
    expect(removed.body).toEqual({ id: 'alice', nickname: 'alice' });
    expect((await api<ProfileEntry>(server.url, 'GET', '/users/alice', undefined, bob.accessToken)).body.avatar).toBeUndefined();
  });

  it('refuses an upload without a peer unless it is an image a browser draws', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    for (const query of ['kind=file&mime=image/webp', 'kind=image&mime=image/svg%2Bxml', 'kind=image&mime=text/html', 'kind=voice&mime=audio/ogg']) {
      const refused = await upload(server, alice.accessToken, query, PIXEL);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code, query).toBe('bad-request');
    }
  });

  it("refuses someone else's avatar upload that the caller may not read", async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const done = await upload(server, alice.accessToken, 'kind=image&mime=image/png', PIXEL);
    const refused = await api<Refused>(server.url, 'PATCH', '/me', { avatar: done.body.url }, bob.accessToken);
    expect(refused.body.error.code).toBe('avatar-invalid');
  });
});
