/**
 * Presence (awareness) against a hostile member: states are small and of
 * known fields, a connection writes only the client ids it announced, they go
 * when it closes, and a blocked user hears nothing of the blocker's presence,
 * typing or read state (docs/security.md, "Presence").
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import { conversationPath, inboxPath, MESSAGE_AWARENESS, type Session } from '@parley/protocol';
import { api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';

afterEach(cleanup);

async function pair(env: Record<string, string> = {}) {
  const server = await startServer({ env });
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  return { server, alice, bob, path };
}

async function connect(server: TestServer, path: string, session: Session): Promise<Client> {
  const client = openDoc(server, path, session.accessToken);
  await synced(client);
  return client;
}

/** Sends an awareness frame by hand over a client's socket: states for any client id, at any clock. */
function sendAwareness(client: Client, ...entries: [clientId: number, clock: number, state: unknown][]): void {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, entries.length);
  for (const [id, clock, state] of entries) {
    encoding.writeVarUint(update, id);
    encoding.writeVarUint(update, clock);
    encoding.writeVarString(update, JSON.stringify(state));
  }
  const frame = encoding.createEncoder();
  encoding.writeVarUint(frame, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(frame, encoding.toUint8Array(update));
  const ws = client.provider.ws;
  if (ws === null) throw new Error('not connected');
  ws.send(encoding.toUint8Array(frame));
}

type State = Record<string, unknown>;
const stateOf = (viewer: Client, id: number): State | undefined => viewer.provider.awareness.getStates().get(id);
const clockOf = (client: Client): number => client.provider.awareness.meta.get(client.doc.clientID)?.clock ?? 0;

/** Every state `viewer` was shown for client id `id`, in order (null: removed). */
function record(viewer: Client, id: number): (State | null)[] {
  const seen: (State | null)[] = [];
  viewer.provider.awareness.on('change', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
    if (added.includes(id) || updated.includes(id)) seen.push({ ...stateOf(viewer, id) });
    if (removed.includes(id)) seen.push(null);
  });
  return seen;
}

/** The peers the server says are typing to an inbox's owner (its own state in the inbox's awareness). */
const relayedTyping = (inbox: Client): unknown[] =>
  [...inbox.provider.awareness.getStates().values()].flatMap((state) => {
    const s = state as { user?: unknown; typing?: unknown };
    return s.user === undefined && Array.isArray(s.typing) ? (s.typing as unknown[]) : [];
  });

/** Counts the awareness frames a client receives. */
function countAwarenessFrames(client: Client): { n: number } {
  const count = { n: 0 };
  const handler = client.provider.messageHandlers[MESSAGE_AWARENESS];
  client.provider.messageHandlers[MESSAGE_AWARENESS] = (...args) => {
    count.n++;
    handler?.(...args);
  };
  return count;
}

describe('presence states', () => {
  it('relays the known fields of a state only, and neither keeps nor relays one over the size limit or of another shape', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const seen = record(b, a.doc.clientID);
    a.provider.awareness.setLocalState({ typing: 'bob', padding: 'x'.repeat(2000) });
    a.provider.awareness.setLocalState({ typing: { nested: 'bob' } });
    // A state for a client id of its own, never shown before, too large.
    sendAwareness(a, [4242, 1, { here: 'bob', padding: 'y'.repeat(5000) }]);
    a.provider.awareness.setLocalState({ here: 'bob', avatar: 'https://elsewhere.example/track.png', user: 'mallory' });
    await waitFor(() => stateOf(b, a.doc.clientID)?.here === 'bob', 'the valid state');
    expect(stateOf(b, a.doc.clientID)).toEqual({ here: 'bob', user: 'alice' });
    expect(seen.some((s) => s !== null && (s.typing !== undefined || s.padding !== undefined))).toBe(false);
    // Nothing of the refused states is kept: a new connection gets only the valid one.
    const later = await connect(server, path, bob);
    expect(later.provider.awareness.getStates().has(4242)).toBe(false);
    expect(stateOf(later, a.doc.clientID)).toEqual({ here: 'bob', user: 'alice' });
  });

  it('honours PARLEY_MAX_AWARENESS_BYTES', async () => {
    const { server, alice, bob, path } = await pair({ PARLEY_MAX_AWARENESS_BYTES: '4096' });
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    // 2,000 bytes: refused at the default, relayed (its known fields) here.
    a.provider.awareness.setLocalState({ here: 'bob', padding: 'x'.repeat(2000) });
    await waitFor(() => stateOf(b, a.doc.clientID)?.here === 'bob', 'a state under the raised limit');
    expect(stateOf(b, a.doc.clientID)).toEqual({ here: 'bob', user: 'alice' });
  });

  it("lets no other connection write or remove a client id's state, of the other member or of the same user", async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const a2 = await connect(server, path, alice);
    a.provider.awareness.setLocalState({ here: 'bob' });
    const id = a.doc.clientID;
    await waitFor(() => stateOf(b, id)?.here === 'bob' && stateOf(a2, id)?.here === 'bob', 'her state');
    const clock = clockOf(a);
    sendAwareness(b, [id, clock + 1, { typing: 'alice' }], [id, clock + 2, null]);
    sendAwareness(a2, [id, clock + 3, { typing: 'bob' }], [id, clock + 4, null]);
    // Then each states its own: once alice's device hears both, the forged frames (sent before, on the same sockets) were handled.
    b.provider.awareness.setLocalState({ here: 'alice' });
    a2.provider.awareness.setLocalState({ here: 'bob' });
    await waitFor(() => stateOf(a, b.doc.clientID)?.here === 'alice' && stateOf(a, a2.doc.clientID)?.here === 'bob', 'their own states');
    expect(stateOf(b, id)).toEqual({ here: 'bob', user: 'alice' });
    const later = await connect(server, path, bob);
    expect(stateOf(later, id)).toEqual({ here: 'bob', user: 'alice' });
    expect(later.provider.awareness.meta.get(id)?.clock).toBe(clock);
  });

  it('frees every state of a socket when it closes, and caps the client ids one socket announces', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    a.provider.awareness.setLocalState({ here: 'bob' });
    // Its own id and three more fill the default of 4; the fifth and sixth are refused.
    sendAwareness(a, [1001, 1, { here: 'bob' }], [1002, 1, { here: 'bob' }], [1003, 1, { here: 'bob' }], [1004, 1, { here: 'bob' }], [1005, 1, { here: 'bob' }]);
    const mine = [a.doc.clientID, 1001, 1002, 1003];
    await waitFor(() => mine.every((id) => stateOf(b, id) !== undefined), 'her four states');
    expect(stateOf(b, 1004)).toBeUndefined();
    expect(stateOf(b, 1005)).toBeUndefined();
    a.destroy();
    await waitFor(() => mine.every((id) => stateOf(b, id) === undefined), 'every state of hers gone');
    const later = await connect(server, path, bob);
    expect(mine.some((id) => later.provider.awareness.getStates().has(id))).toBe(false);
  });

  it('frees many client ids of one socket on close (PARLEY_MAX_AWARENESS_CLIENTS raised)', async () => {
    const { server, alice, bob, path } = await pair({ PARLEY_MAX_AWARENESS_CLIENTS: '64' });
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const ids = Array.from({ length: 60 }, (_, i) => 5000 + i);
    sendAwareness(a, ...ids.map((id): [number, number, unknown] => [id, 1, { here: 'bob' }]));
    await waitFor(() => ids.every((id) => stateOf(b, id) !== undefined), 'sixty states');
    // The socket closes without a word (the client sends no removal, and does not reconnect).
    a.provider.disconnect();
    await waitFor(() => ids.every((id) => stateOf(b, id) === undefined), 'all sixty gone');
    const later = await connect(server, path, bob);
    expect(ids.some((id) => later.provider.awareness.getStates().has(id))).toBe(false);
  });
});

describe('presence of a blocker', () => {
  async function blockedPair() {
    const { server, alice, bob, path } = await pair();
    const admin = (method: string, p: string, body?: unknown) => api(server.url, method, `/admin${p}`, body, server.config.adminKey);
    expect((await admin('PUT', '/settings', { messaging: 'open', blocklistMode: 'silent' })).status).toBe(200);
    const block = async (blocked: boolean) => {
      const { status } = await api(server.url, blocked ? 'PUT' : 'DELETE', '/blocklist/bob', blocked ? {} : undefined, alice.accessToken);
      expect(status).toBe(200);
    };
    return { server, alice, bob, path, block };
  }

  it('shows a blocked user none of the blocker\'s presence or typing, and shows it again after unblock', async () => {
    const { server, alice, bob, path, block } = await blockedPair();
    const bobInbox = await connect(server, inboxPath('bob'), bob);
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const id = a.doc.clientID;
    a.provider.awareness.setLocalState({ here: 'bob', typing: 'bob' });
    await waitFor(() => stateOf(b, id)?.typing === 'bob' && relayedTyping(bobInbox).includes('alice'), 'her presence and typing');

    await block(true);
    // Her device leaves his view, her typing his list.
    await waitFor(() => stateOf(b, id) === undefined && relayedTyping(bobInbox).length === 0, 'her presence gone');
    const seen = record(b, id);
    const frames = countAwarenessFrames(b);
    a.provider.awareness.setLocalState({ here: 'bob', typing: null });
    a.provider.awareness.setLocalState({ here: 'bob', typing: 'bob' });
    // She may still write to him; once her message reaches him, her states (sent before it) were handled.
    const m = message('alice', 'bob', 'still here');
    send(a, m);
    await waitFor(() => b.doc.getMap('seq').has(m.id), 'her message');
    expect(seen).toEqual([]);
    // Not even an empty frame: nothing tells him she did anything.
    expect(frames.n).toBe(0);
    expect(relayedTyping(bobInbox)).toEqual([]);
    // A device of his that connects now hears nothing of her either.
    const b2 = await connect(server, path, bob);
    expect(b2.provider.awareness.getStates().has(id)).toBe(false);
    const inbox2 = await connect(server, inboxPath('bob'), bob);
    expect(relayedTyping(inbox2)).toEqual([]);

    await block(false);
    // Without her doing anything, both of his devices see her again, and his list her typing.
    await waitFor(() => stateOf(b, id)?.typing === 'bob' && stateOf(b2, id)?.typing === 'bob', 'her presence again');
    await waitFor(() => relayedTyping(bobInbox).includes('alice') && relayedTyping(inbox2).includes('alice'), 'her typing again');
    // Her own device keeps its state, and the next change reaches him.
    a.provider.awareness.setLocalStateField('typing', null);
    await waitFor(() => stateOf(b, id)?.typing === null, 'her next change');
  });

  it('keeps the blocked user\'s typing from the blocker too', async () => {
    const { server, alice, bob, path, block } = await blockedPair();
    const aliceInbox = await connect(server, inboxPath('alice'), alice);
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    await block(true);
    b.provider.awareness.setLocalState({ here: 'alice', typing: 'alice' });
    // Her own second device's state is the sync point: his frame came first on the server.
    const a2 = await connect(server, path, alice);
    a2.provider.awareness.setLocalState({ here: 'bob' });
    await waitFor(() => stateOf(a, a2.doc.clientID)?.here === 'bob', 'her other device');
    expect(stateOf(a, b.doc.clientID)).toBeUndefined();
    expect(relayedTyping(aliceInbox)).toEqual([]);
    await block(false);
    await waitFor(() => stateOf(a, b.doc.clientID)?.typing === 'alice' && relayedTyping(aliceInbox).includes('bob'), 'his typing after unblock');
  });

  it('gives a blocked user no new delivered or read receipt of the blocker, and takes her receipts again after unblock', async () => {
    const { server, alice, bob, path, block } = await blockedPair();
    const a = await connect(server, path, alice);
    const b = await connect(server, path, bob);
    const m = message('bob', 'alice', 'read me');
    send(b, m);
    await waitFor(() => a.doc.getMap('seq').has(m.id), 'his message, with her');
    await block(true);
    const receipts = a.doc.getMap('receipts');
    a.doc.transact(() => {
      receipts.set('alice|delivered', { user: 'alice', seq: 1 });
      receipts.set('alice|read', { user: 'alice', seq: 1 });
    });
    // Refused as out of step, which the app heals without a word (and no message of hers fails).
    await waitFor(() => rejects(a).length === 1, 'the refusal');
    expect(rejects(a)[0]).toMatchObject({ code: 'reset-required', msgIds: [] });
    // A message of hers written with a receipt is refused the same way and stays hers to send again.
    const mine = message('alice', 'bob', 'with a receipt');
    const a2 = await connect(server, path, alice);
    a2.doc.transact(() => {
      send(a2, mine);
      a2.doc.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    });
    await waitFor(() => rejects(a2).length === 1, 'the second refusal');
    expect(rejects(a2)[0]).toMatchObject({ code: 'reset-required', msgIds: [mine.id] });
    const later = await connect(server, path, bob);
    expect(later.doc.getMap('receipts').has('alice|read')).toBe(false);
    expect(later.doc.getMap('receipts').has('alice|delivered')).toBe(false);
    expect(b.doc.getMap('receipts').size).toBe(0);

    await block(false);
    // A fresh copy of hers (what the app does after the refusal) writes them, and he sees them.
    const healed = await connect(server, path, alice);
    healed.doc.getMap('receipts').set('alice|read', { user: 'alice', seq: 1 });
    await waitFor(() => (b.doc.getMap('receipts').get('alice|read') as { seq?: number } | undefined)?.seq === 1, 'her read receipt');
    expect(rejects(healed)).toEqual([]);
  });
});
