/**
 * The hub's per-peer caches (the last sequence per conversation, profiles,
 * relations) follow what is loaded: naming many peers, in conversations or
 * friend requests, leaves nothing behind once those conversations unload,
 * and what is evicted is read back from storage, not started again.
 */
import { afterEach, expect, it } from 'vitest';
import { conversationPath, inboxPath, type ProfileEntry } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, send, signUp, startServer, synced, thisSegment, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);

const PEERS = 30;

async function importPeers(server: TestServer, ids: readonly string[]): Promise<void> {
  const { status } = await api(server.url, 'POST', '/admin/accounts', { accounts: ids.map((id) => ({ id })) }, server.config.adminKey);
  expect(status).toBe(200);
}

/** Waits until none of `paths` is in memory. */
const unloaded = (server: TestServer, paths: readonly string[]): Promise<void> =>
  waitFor(() => paths.every((p) => !server.parley.hub.registry.isLoaded(p)), 'the documents unloaded');

it('keeps no per-peer state for peers whose conversations are unloaded, however many were named', async () => {
  const server = await startServer({ unloadAfterMs: 0 });
  const alice = await signUp(server.url, 'alice');
  const peers = Array.from({ length: PEERS }, (_, i) => `peer${i}`);
  await importPeers(server, peers);
  const hub = server.parley.hub;
  const paths: string[] = [];
  for (const peer of peers) {
    const path = conversationPath('alice', peer, thisSegment());
    paths.push(path, inboxPath(peer));
    const client = openDoc(server, path, alice.accessToken);
    await synced(client);
    client.destroy();
    // Naming a peer over HTTP too: a friend request loads both users' relations.
    const { status } = await api(server.url, 'POST', '/friends/requests', { to: peer, note: 'hi' }, alice.accessToken);
    expect(status).toBe(201);
  }
  // A profile change of someone with nothing loaded.
  expect((await api<ProfileEntry>(server.url, 'PATCH', '/me', { nickname: 'Alice A.' }, alice.accessToken)).status).toBe(200);
  await unloaded(server, [...paths, inboxPath('alice')]);
  const sizes = hub.cacheSizes();
  console.log(`caches after ${PEERS} peers named and unloaded: ${JSON.stringify(sizes)}`);
  expect(sizes).toEqual({ lastSeq: 0, profiles: 0, relations: 0 });
});

it('holds the caches of a loaded conversation, and continues its sequence after eviction from what is stored', async () => {
  const server = await startServer({ unloadAfterMs: 0 });
  const alice = await signUp(server.url, 'alice');
  await signUp(server.url, 'bob');
  const hub = server.parley.hub;
  const path = conversationPath('alice', 'bob', thisSegment());
  const first = openDoc(server, path, alice.accessToken);
  await synced(first);
  const sent = [message('alice', 'bob', 'one'), message('alice', 'bob', 'two')];
  for (const m of sent) send(first, m);
  await waitFor(() => acks(first).length === 2, 'acks');
  // Loaded: one conversation, its two members.
  expect(hub.cacheSizes()).toEqual({ lastSeq: 1, profiles: 2, relations: 2 });
  first.destroy();
  await unloaded(server, [path, inboxPath('alice'), inboxPath('bob')]);
  expect(hub.cacheSizes()).toEqual({ lastSeq: 0, profiles: 0, relations: 0 });

  const again = openDoc(server, path, alice.accessToken);
  await synced(again);
  const third = message('alice', 'bob', 'three');
  send(again, third);
  await waitFor(() => acks(again).includes(third.id), 'the third ack');
  await waitFor(() => again.doc.getMap<number>('seq').get(third.id) !== undefined, 'its stamp');
  expect(again.doc.getMap<number>('seq').get(third.id)).toBe(3);
});
