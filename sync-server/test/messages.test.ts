import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationPath, inboxPath, SERVER_CLAIM, type InboxEntry, type Message } from '@parley/protocol';
import { COMPACT_AFTER } from '../src/sync/registry.ts';
import {
  acks,
  cleanup,
  message,
  openDoc,
  rejects,
  send,
  signUp,
  startServer,
  storedDoc,
  synced,
  thisSegment,
  waitFor,
  type Client,
  type TestServer,
} from './helpers.ts';

afterEach(cleanup);

async function pair(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(options);
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  return { server, alice, bob, path };
}

const seqOf = (client: Client, id: string): number | undefined => client.doc.getMap<number>('seq').get(id);
const order = (doc: Y.Doc): string[] =>
  [...doc.getMap<number>('seq').entries()].sort((x, y) => x[1] - y[1]).map(([id]) => id);

async function connect(server: TestServer, path: string, token: string, doc?: Y.Doc): Promise<Client> {
  const client = openDoc(server, path, token, doc);
  await synced(client);
  return client;
}

describe('exchanging messages', () => {
  it('stamps a sequence on every message and both members see the same order', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const b = await connect(server, path, bob.accessToken);
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) {
      const fromA = message('alice', 'bob', `a${i}`);
      const fromB = message('bob', 'alice', `b${i}`);
      send(a, fromA);
      send(b, fromB);
      sent.push(fromA, fromB);
    }
    await waitFor(() => sent.every((m) => seqOf(a, m.id) !== undefined && seqOf(b, m.id) !== undefined), 'stamps on both sides');
    expect(order(a.doc)).toEqual(order(b.doc));
    expect(order(a.doc)).toHaveLength(10);
    expect([...a.doc.getMap<number>('seq').values()].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.doc.getMap<Message>('messages').size).toBe(10);
    // The client ids are claimed for their users, the server's own id as the server.
    const claims = a.doc.getMap<{ user: string }>('clients');
    expect(claims.get(String(a.doc.clientID))).toEqual({ user: 'alice' });
    expect(claims.get(String(b.doc.clientID))).toEqual({ user: 'bob' });
    // One server id for the whole session, not a new one per write.
    expect([...claims.values()].filter((c) => c.user === SERVER_CLAIM)).toHaveLength(1);
  });

  it('acks an update only after it is committed, with its message ids', async () => {
    const { server, alice, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
    const seenAtAck: unknown[] = [];
    const m = message('alice', 'bob', 'durable?');
    a.onFrame = (frame) => {
      if (frame.type === 'ack') seenAtAck.push(db.prepare('SELECT seq FROM msg_index WHERE id = ?').get(m.id));
    };
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'ack');
    db.close();
    const ack = a.frames.find((f) => f.type === 'ack');
    expect(ack).toMatchObject({ type: 'ack', client: a.doc.clientID, msgIds: [m.id] });
    expect(seenAtAck).toEqual([{ seq: 1 }]);
    // The stamp arrives before the ack on the same socket.
    expect(seqOf(a, m.id)).toBe(1);
  });

  it('serves the whole history after a restart on the same data dir', async () => {
    const { server, alice, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const ids = Array.from({ length: 8 }, (_, i) => message('alice', 'bob', `hello ${i}`));
    for (const m of ids) send(a, m);
    await waitFor(() => ids.every((m) => acks(a).includes(m.id)), 'acks');
    a.destroy();
    await server.parley.close();

    const again = await startServer({ dataDir: server.dataDir });
    const b = await connect(again, path, (await signIn(again, 'bob')).accessToken);
    expect(order(b.doc)).toEqual(ids.map((m) => m.id));
    expect(b.doc.getMap('messages').size).toBe(8);
    // The sequence continues where it stopped.
    const next = message('bob', 'alice', 'after restart');
    send(b, next);
    await waitFor(() => seqOf(b, next.id) !== undefined, 'stamp');
    expect(seqOf(b, next.id)).toBe(9);
  });
});

async function signIn(server: TestServer, user: string) {
  const res = await fetch(`${server.url}/api/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'correct horse', device: 'd' }),
  });
  return (await res.json()) as { accessToken: string };
}

describe('refusing updates', () => {
  /** Sends a bad write from a fresh client, expects `code`, then the same user's next valid message goes through. */
  async function refused(code: string, write: (ctx: { server: TestServer; a: Client; path: string; bobToken: string; aliceToken: string }) => Promise<Client> | Client) {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const culprit = await write({ server, a, path, bobToken: bob.accessToken, aliceToken: alice.accessToken });
    await waitFor(() => rejects(culprit).length > 0, `reject ${code}`);
    const reject = rejects(culprit)[0];
    expect(reject?.code).toBe(code);
    expect(reject?.message.length).toBeGreaterThan(0);
    const before = [...a.doc.getMap('messages').keys()];

    // After a refusal a client resyncs under a new client id; its next valid write is accepted.
    const user = culprit.provider.params.token === bob.accessToken ? 'bob' : 'alice';
    const fresh = await connect(server, path, user === 'bob' ? bob.accessToken : alice.accessToken);
    const ok = message(user, user === 'bob' ? 'alice' : 'bob', 'a valid one');
    send(fresh, ok);
    await waitFor(() => acks(fresh).includes(ok.id), 'ack of the next valid message');
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, path);
    expect([...stored.getMap('messages').keys()].sort()).toEqual([...before, ok.id].sort());
    return { stored, reject };
  }

  it('refuses a message naming another author with not-author', async () => {
    const { stored } = await refused('not-author', async ({ server, path, bobToken }) => {
      const b = await connect(server, path, bobToken);
      send(b, message('alice', 'bob', 'pretending to be alice', { id: 'forged' }));
      return b;
    });
    expect(stored.getMap('messages').has('forged')).toBe(false);
  });

  it("refuses deleting the other user's message with not-owner", async () => {
    await refused('not-owner', async ({ server, a, path, bobToken }) => {
      const m = message('alice', 'bob', 'mine');
      send(a, m);
      await waitFor(() => acks(a).includes(m.id), 'ack');
      const b = await connect(server, path, bobToken);
      b.doc.getMap('messages').delete(m.id);
      return b;
    });
  });

  it('refuses a client id claimed by another user with client-id-taken', async () => {
    const { stored } = await refused('client-id-taken', async ({ server, a, path, bobToken }) => {
      const m = message('alice', 'bob', 'claims my client id');
      send(a, m);
      await waitFor(() => acks(a).includes(m.id), 'ack');
      const doc = new Y.Doc();
      const b = await connect(server, path, bobToken, doc);
      doc.clientID = a.doc.clientID;
      send(b, message('bob', 'alice', 'stolen id', { id: 'stolen' }));
      return b;
    });
    expect(stored.getMap('messages').has('stolen')).toBe(false);
  });

  it('refuses a body over 12 KB with body-too-long', async () => {
    const { stored } = await refused('body-too-long', async ({ server, path, aliceToken }) => {
      const c = await connect(server, path, aliceToken);
      send(c, message('alice', 'bob', 'x'.repeat(13 * 1024), { id: 'long' }));
      return c;
    });
    expect(stored.getMap('messages').has('long')).toBe(false);
  });

  it('refuses a client write into an inbox with read-only', async () => {
    const { server, alice, bob, path } = await pair();
    const inbox = await connect(server, inboxPath('alice'), alice.accessToken);
    inbox.doc.getMap('conversations').set('bob', { hacked: true });
    await waitFor(() => rejects(inbox).length > 0, 'reject');
    expect(rejects(inbox)[0]?.code).toBe('read-only');
    // The next real message still reaches the inbox.
    const b = await connect(server, path, bob.accessToken);
    const m = message('bob', 'alice', 'hi');
    send(b, m);
    await waitFor(() => acks(b).includes(m.id), 'ack');
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, inboxPath('alice'));
    expect(stored.getMap<InboxEntry>('conversations').get('bob')).toMatchObject({ peer: 'bob', unread: 1, last: { id: m.id } });
  });
});

describe('inboxes', () => {
  it('keeps the last message and unread count, and a read receipt resets unread', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const b = await connect(server, path, bob.accessToken);
    const aliceInbox = await connect(server, inboxPath('alice'), alice.accessToken);
    const bobInbox = await connect(server, inboxPath('bob'), bob.accessToken);
    const entry = (c: Client, peer: string) => c.doc.getMap<InboxEntry>('conversations').get(peer);

    const sent = [message('alice', 'bob', 'one'), message('alice', 'bob', 'two'), message('alice', 'bob', 'three')];
    for (const m of sent) send(a, m);
    await waitFor(() => entry(bobInbox, 'alice')?.lastSeq === 3, "bob's inbox");
    expect(entry(bobInbox, 'alice')).toMatchObject({ peer: 'alice', segment: thisSegment(), unread: 3, last: { id: sent[2]?.id, from: 'alice', preview: 'three', seq: 3 } });
    await waitFor(() => entry(aliceInbox, 'bob')?.lastSeq === 3, "alice's inbox");
    expect(entry(aliceInbox, 'bob')).toMatchObject({ unread: 0, last: { preview: 'three' } });
    expect(bobInbox.doc.getMap('profiles').get('alice')).toEqual({ id: 'alice', nickname: 'alice' });

    b.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 2 });
    await waitFor(() => entry(bobInbox, 'alice')?.unread === 1, 'unread after reading up to 2');
    b.doc.getMap('receipts').set('bob|read', { user: 'bob', seq: 3 });
    await waitFor(() => entry(bobInbox, 'alice')?.unread === 0, 'unread after reading all');

    // A profile change reaches the peer's inbox.
    await fetch(`${server.url}/api/v1/me`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.accessToken}` },
      body: JSON.stringify({ nickname: 'Alice' }),
    });
    await waitFor(() => bobInbox.doc.getMap<{ nickname: string }>('profiles').get('alice')?.nickname === 'Alice', 'profile refresh');
  });
});

describe('documents in memory', () => {
  it('unloads a document with no connection and loads it again intact', async () => {
    const { server, alice, path } = await pair({ unloadAfterMs: 50 });
    const a = await connect(server, path, alice.accessToken);
    const sent = [message('alice', 'bob', 'one'), message('alice', 'bob', 'two')];
    for (const m of sent) send(a, m);
    await waitFor(() => sent.every((m) => acks(a).includes(m.id)), 'acks');
    a.destroy();
    const { registry } = server.parley.hub;
    await waitFor(() => !registry.isLoaded(path) && !registry.isLoaded(inboxPath('alice')), 'unload');
    const again = await connect(server, path, alice.accessToken);
    expect(order(again.doc)).toEqual(sent.map((m) => m.id));
    const next = message('alice', 'bob', 'three');
    send(again, next);
    await waitFor(() => seqOf(again, next.id) === 3, 'stamp 3');
  });

  it('compacts a long log into a snapshot with identical content', async () => {
    const { server, alice, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const sent = Array.from({ length: COMPACT_AFTER + 20 }, (_, i) => message('alice', 'bob', `n${i}`));
    for (const m of sent) send(a, m);
    await waitFor(() => sent.every((m) => acks(a).includes(m.id)), 'acks', 15_000);
    const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
    const rows = () => (db.prepare('SELECT COUNT(*) AS n FROM updates WHERE doc = ?').get(path) as { n: number }).n;
    await waitFor(() => rows() < COMPACT_AFTER, 'compaction');
    expect(db.prepare('SELECT upto FROM snapshots WHERE doc = ?').get(path)).toBeDefined();
    db.close();
    const live = Y.encodeStateAsUpdate(a.doc);
    await server.parley.close();
    const stored = await storedDoc(server.dataDir, path);
    expect(order(stored)).toEqual(sent.map((m) => m.id));
    const fromLive = new Y.Doc();
    Y.applyUpdate(fromLive, live);
    expect(stored.getMap('messages').toJSON()).toEqual(fromLive.getMap('messages').toJSON());
    expect(stored.getMap('seq').toJSON()).toEqual(fromLive.getMap('seq').toJSON());
  });
});

describe('awareness', () => {
  it('relays presence with the authenticated user and removes it when the connection closes', async () => {
    const { server, alice, bob, path } = await pair();
    const a = await connect(server, path, alice.accessToken);
    const b = await connect(server, path, bob.accessToken);
    a.provider.awareness.setLocalState({ typing: 'bob', user: 'mallory' });
    const stateInB = () => b.provider.awareness.getStates().get(a.doc.clientID) as { typing?: string; user?: string } | undefined;
    await waitFor(() => stateInB()?.typing === 'bob', 'presence');
    expect(stateInB()?.user).toBe('alice');
    const aliceClient = a.doc.clientID;
    a.destroy();
    await waitFor(() => !b.provider.awareness.getStates().has(aliceClient), 'presence removed');
  });

  it('relays who is typing into the recipient\'s inbox, which the list reads without the conversation open', async () => {
    const { server, alice, bob, path } = await pair();
    const bobInbox = await connect(server, inboxPath('bob'), bob.accessToken);
    const aliceInbox = await connect(server, inboxPath('alice'), alice.accessToken);
    const relayed = (inbox: Client): unknown[] =>
      [...inbox.provider.awareness.getStates().values()].flatMap((state) => {
        const s = state as { user?: unknown; typing?: unknown };
        return s.user === undefined && Array.isArray(s.typing) ? (s.typing as unknown[]) : [];
      });
    const a = await connect(server, path, alice.accessToken);
    a.provider.awareness.setLocalStateField('typing', 'bob');
    await waitFor(() => relayed(bobInbox).includes('alice'), 'alice typing, in bob\'s inbox');
    // Only to the one she types to: her own inbox says nothing.
    expect(relayed(aliceInbox)).toEqual([]);
    // A device that connects now hears it at once.
    const laterInbox = await connect(server, inboxPath('bob'), bob.accessToken);
    await waitFor(() => relayed(laterInbox).includes('alice'), 'the state, for a new connection');
    a.provider.awareness.setLocalStateField('typing', null);
    await waitFor(() => relayed(bobInbox).length === 0, 'typing over');
    a.provider.awareness.setLocalStateField('typing', 'bob');
    await waitFor(() => relayed(bobInbox).includes('alice'), 'typing again');
    // Closing the conversation ends it too.
    a.destroy();
    await waitFor(() => relayed(bobInbox).length === 0, 'her connection gone');
  });
});
