import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES, conversationPath } from '@parley/protocol';
import { cleanup, openDoc, sessionIdOf, signUp, startServer, thisSegment, waitFor } from './helpers.ts';

afterEach(cleanup);

describe('opening a sync socket', () => {
  const refusedWith = async (token: string | undefined, path: string, setup?: (url: string) => Promise<string>) => {
    const server = await startServer();
    const t = setup === undefined ? token : await setup(server.url);
    const client = openDoc(server, path, t);
    await waitFor(() => client.closeCode !== null, 'close');
    return client;
  };

  it('refuses a missing token with token-missing and sends no sync frame', async () => {
    const client = await refusedWith(undefined, 'inbox/alice');
    expect(client.frames).toEqual([{ type: 'refused', code: 'token-missing', message: expect.any(String) as string }]);
    expect(client.closeCode).toBe(CLOSE_CODES.unauthorized);
    expect(client.syncFrames).toBe(0);
  });

  it('refuses an expired token with token-expired and sends no sync frame', async () => {
    const server = await startServer();
    const session = await signUp(server.url, 'alice');
    const { token } = await server.parley.tokens.issueAccess('alice', 'd', sessionIdOf(session), Math.floor(Date.now() / 1000) - 60);
    const client = openDoc(server, 'inbox/alice', token);
    await waitFor(() => client.closeCode !== null, 'close');
    expect(client.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['token-expired']);
    expect(client.closeCode).toBe(CLOSE_CODES.unauthorized);
    expect(client.syncFrames).toBe(0);
  });

  it('refuses a forged token with token-invalid and sends no sync frame', async () => {
    const server = await startServer();
    const session = await signUp(server.url, 'alice');
    const [header, payload] = session.accessToken.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    const client = openDoc(server, 'inbox/alice', forged);
    await waitFor(() => client.closeCode !== null, 'close');
    expect(client.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['token-invalid']);
    expect(client.closeCode).toBe(CLOSE_CODES.unauthorized);
    expect(client.syncFrames).toBe(0);
  });

  it("refuses a non-member with not-member and someone else's inbox with not-owner-doc", async () => {
    const server = await startServer();
    const carol = await signUp(server.url, 'carol');
    const conversation = openDoc(server, conversationPath('alice', 'bob', thisSegment()), carol.accessToken);
    const inbox = openDoc(server, 'inbox/alice', carol.accessToken);
    await waitFor(() => conversation.closeCode !== null && inbox.closeCode !== null, 'close');
    expect(conversation.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['not-member']);
    expect(conversation.closeCode).toBe(CLOSE_CODES.forbidden);
    expect(conversation.syncFrames).toBe(0);
    expect(inbox.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['not-owner-doc']);
    expect(inbox.closeCode).toBe(CLOSE_CODES.forbidden);
  });

  it('refuses an unknown document path with 4404', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const client = openDoc(server, 'c2c/bob/alice/2024-01', alice.accessToken);
    await waitFor(() => client.closeCode !== null, 'close');
    expect(client.closeCode).toBe(CLOSE_CODES.notFound);
    expect(client.syncFrames).toBe(0);
  });
});
