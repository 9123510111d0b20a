/** Friends and the blocklist through the user API, reflected into the inbox document. */
import { afterEach, describe, expect, it } from 'vitest';
import { inboxPath } from '@parley/protocol';
import { api, cleanup, openDoc, signUp, startServer, synced, waitFor } from './helpers.ts';

afterEach(cleanup);

describe('friends and blocklist', () => {
  it('requests, accepts and removes a friend, and reflects it into both inboxes', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const inbox = openDoc(server, inboxPath('bob'), bob.accessToken);
    await synced(inbox);
    const as = (s: { accessToken: string }) => <T = unknown>(method: string, path: string, body?: unknown) => api<T>(server.url, method, path, body, s.accessToken);
    const a = as(alice);
    const b = as(bob);

    expect((await a('POST', '/friends/requests', { to: 'bob', note: 'hi, it is alice' })).status).toBe(201);
    expect((await b('GET', '/friends/requests')).body).toMatchObject({ incoming: [{ from: 'alice', note: 'hi, it is alice' }], outgoing: [] });
    expect((await a('GET', '/friends/requests')).body).toMatchObject({ incoming: [], outgoing: [{ to: 'bob', note: 'hi, it is alice' }] });
    await waitFor(() => inbox.doc.getMap('requests').has('in|alice'), 'request in the inbox');

    expect((await b('POST', '/friends/requests/alice/accept')).status).toBe(200);
    expect((await a<{ friends: { id: string }[] }>('GET', '/friends')).body.friends.map((f) => f.id)).toEqual(['bob']);
    expect((await b<{ friends: { id: string }[] }>('GET', '/friends')).body.friends.map((f) => f.id)).toEqual(['alice']);
    await waitFor(() => inbox.doc.getMap('friends').has('alice') && !inbox.doc.getMap('requests').has('in|alice'), 'friend in the inbox');
    expect((await b<{ error: { code: string } }>('POST', '/friends/requests/alice/accept')).body.error.code).toBe('request-not-found');
    expect((await a<{ error: { code: string } }>('POST', '/friends/requests', { to: 'bob' })).body.error.code).toBe('already-friends');

    expect((await a('DELETE', '/friends/bob')).status).toBe(200);
    expect((await b<{ friends: unknown[] }>('GET', '/friends')).body.friends).toEqual([]);
    await waitFor(() => !inbox.doc.getMap('friends').has('alice'), 'removal in the inbox');
  });

  it('declines a request', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    await api(server.url, 'POST', '/friends/requests', { to: 'bob' }, alice.accessToken);
    expect((await api(server.url, 'POST', '/friends/requests/alice/decline', undefined, bob.accessToken)).status).toBe(200);
    expect((await api(server.url, 'GET', '/friends/requests', undefined, bob.accessToken)).body).toEqual({ incoming: [], outgoing: [] });
  });

  it('blocks and unblocks; blocking removes the friendship unless the install keeps it', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const admin = <T = unknown>(method: string, path: string, body?: unknown) => api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);
    const a = <T = unknown>(method: string, path: string) => api<T>(server.url, method, path, undefined, alice.accessToken);
    const inbox = openDoc(server, inboxPath('alice'), alice.accessToken);
    await synced(inbox);

    await admin('POST', '/friends', { user: 'alice', friends: ['bob'], bothWays: true });
    expect((await a('PUT', '/blocklist/bob')).status).toBe(200);
    expect((await a<{ blocked: { id: string }[] }>('GET', '/blocklist')).body.blocked.map((x) => x.id)).toEqual(['bob']);
    expect((await a<{ friends: unknown[] }>('GET', '/friends')).body.friends).toEqual([]);
    await waitFor(() => inbox.doc.getMap('blocklist').has('bob'), 'blocklist in the inbox');
    expect((await a('DELETE', '/blocklist/bob')).status).toBe(200);
    expect((await a<{ blocked: unknown[] }>('GET', '/blocklist')).body.blocked).toEqual([]);

    await admin('PUT', '/settings', { blockKeepsFriendship: true });
    await admin('POST', '/friends', { user: 'alice', friends: ['bob'], bothWays: true });
    await a('PUT', '/blocklist/bob');
    expect((await a<{ friends: { id: string }[] }>('GET', '/friends')).body.friends.map((f) => f.id)).toEqual(['bob']);
    expect((await a<{ error: { code: string } }>('PUT', '/blocklist/alice')).body.error.code).toBe('self-relation');
    expect((await a<{ error: { code: string } }>('PUT', '/blocklist/nobody')).body.error.code).toBe('user-not-found');
  });
});
