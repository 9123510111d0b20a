/** A sender's recall, end to end: real server, real SQLite files, real y-websocket clients. */
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath, inboxPath, segmentOf, type InboxEntry, type Message } from '@parley/protocol';
import type { ConversationEvent } from '../src/sync/events.ts';
import { allBytes, acks, cleanup, message, rejects, send, signUp, startServer, connected, waitFor, type Client } from './helpers.ts';

afterEach(cleanup);

function recall(client: Client, id: string, by: string): void {
  client.doc.transact(() => {
    client.doc.getMap('recalls').set(id, { by, ts: Date.now() });
    client.doc.getMap('messages').delete(id);
  });
}

async function setup(env: Record<string, string> = {}, ts = Date.now()) {
  const server = await startServer({ env });
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', segmentOf(ts));
  return { server, alice, bob, path };
}

describe('recall by the sender', () => {
  it('erases the text from every file of the data dir, tells the recipient and the observers, and leaves a marker and a recalled preview', async () => {
    const { server, alice, bob, path } = await setup();
    const recalls: (ConversationEvent & { by: string })[] = [];
    server.parley.hub.observe({ messageRecalled: (event) => recalls.push(event) });
    const a = await connected(server, path, alice.accessToken);
    const b = await connected(server, path, bob.accessToken);
    const bobInbox = await connected(server, inboxPath('bob'), bob.accessToken);
    const word = `quokkaword${Date.now().toString(36)}`;
    const m = message('alice', 'bob', `a secret: ${word}`);
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'ack');
    await waitFor(() => bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.id === m.id, 'inbox last');
    // The test can see the word where the server stored it (the log row and the inbox preview).
    expect(allBytes(server.dataDir)).toContain(word);

    recall(a, m.id, 'alice');
    await waitFor(() => b.doc.getMap('recalls').has(m.id) && !b.doc.getMap('messages').has(m.id), 'recall reaches bob');
    await waitFor(() => bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.preview === 'alice recalled a message', 'recalled preview');
    // Who recalled it, for each client to word it for its user ("You recalled a message" on the sender's devices).
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.recalledBy).toBe('alice');
    await waitFor(() => !allBytes(server.dataDir).includes(word), 'erasure from the data dir');
    expect(recalls.map((r) => [r.by, r.stamped.map((s) => s.message.id)])).toEqual([['alice', [m.id]]]);
    expect(rejects(a)).toEqual([]);
    // A restart loads the recall marker and no content.
    await server.parley.close();
    expect(allBytes(server.dataDir)).not.toContain(word);
  });

  it('deletes and erases the content itself when the recall update leaves it in place', async () => {
    const { server, alice, bob, path } = await setup();
    const a = await connected(server, path, alice.accessToken);
    const b = await connected(server, path, bob.accessToken);
    const word = `numbatword${Date.now().toString(36)}`;
    const m = message('alice', 'bob', `left behind: ${word}`);
    send(a, m);
    await waitFor(() => acks(a).includes(m.id) && b.doc.getMap('messages').has(m.id), 'delivery');
    a.doc.getMap('recalls').set(m.id, { by: 'alice', ts: Date.now() });
    await waitFor(() => b.doc.getMap('recalls').has(m.id) && !b.doc.getMap('messages').has(m.id) && !a.doc.getMap('messages').has(m.id), 'content deleted on both devices');
    await waitFor(() => !allBytes(server.dataDir).includes(word), 'erasure from the data dir');
    expect(rejects(a)).toEqual([]);
  });

  it('erases an admin recall too', async () => {
    const { server, alice, path } = await setup();
    const a = await connected(server, path, alice.accessToken);
    const word = `wombatword${Date.now().toString(36)}`;
    const m = message('alice', 'bob', `another secret: ${word}`);
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'ack');
    expect(allBytes(server.dataDir)).toContain(word);
    await server.parley.hub.recalls.recall('alice', 'bob', m.id, '@admin');
    expect(allBytes(server.dataDir)).not.toContain(word);
    await waitFor(() => a.doc.getMap('recalls').has(m.id), 'recall marker');
  });

  it('refuses a recall after the window with recall-window-passed', async () => {
    const ts = Date.now() - 5000;
    const { server, alice, path } = await setup({ PARLEY_RECALL_WINDOW_MS: '1000' }, ts);
    const a = await connected(server, path, alice.accessToken);
    const m = message('alice', 'bob', 'too late to take back', { ts });
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'ack');
    recall(a, m.id, 'alice');
    await waitFor(() => rejects(a).length > 0, 'reject');
    expect(rejects(a).map((r) => r.code)).toEqual(['recall-window-passed']);
    const fresh = await connected(server, path, alice.accessToken);
    expect(fresh.doc.getMap<Message>('messages').get(m.id)?.body).toEqual(m.body);
    expect(fresh.doc.getMap('recalls').size).toBe(0);
  });

  it("refuses bob's recall of alice's message with not-owner", async () => {
    const { server, alice, bob, path } = await setup();
    const a = await connected(server, path, alice.accessToken);
    const m = message('alice', 'bob', 'mine to recall');
    send(a, m);
    await waitFor(() => acks(a).includes(m.id), 'ack');
    const b = await connected(server, path, bob.accessToken);
    b.doc.getMap('recalls').set(m.id, { by: 'bob', ts: Date.now() });
    await waitFor(() => rejects(b).length > 0, 'reject');
    expect(rejects(b).map((r) => r.code)).toEqual(['not-owner']);
    expect(a.doc.getMap('messages').has(m.id)).toBe(true);
  });
});
