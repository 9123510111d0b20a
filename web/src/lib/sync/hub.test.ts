/**
 * The sync hub against a real Parley server (started here on port 0, fresh
 * data dir: sync-server/test/helpers.ts), with real Yjs and fake-indexeddb.
 * The peer is a plain y-websocket client of the helpers, not a second hub:
 * the store (db.ts) is one Dexie database per process, and two hubs in one
 * process would share every table.
 */
import 'fake-indexeddb/auto';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { conversationId, conversationPath, receiptKey, segmentOf, type ErrorCode, type Message, type Session } from '@parley/protocol';
import { cleanup, message, openDoc, send, sessionIdOf, signUp, startServer, synced, type Client, type TestServer } from '../../../../sync-server/test/helpers.ts';
import { db, userTables, type OutboxRow } from '../db.ts';
import { messageState } from '../shared/messageState.ts';
import { SyncHub, type HubContext } from './hub.ts';
import { messageRow } from './materialise.ts';
import { stagePending } from './projector.ts';

/** Every socket opened, so that a test can see them closed (bookkeeping only: the `ws` client does the work). */
const sockets: WebSocket[] = [];
class RecordedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    sockets.push(this);
  }
}
// Node 20 has none of the browser globals the hub reads. SyncedDoc's provider opens `new WebSocket` (the global;
// the `ws` package is the same client API); the hub connects only while `navigator.onLine` (Node 20 has no
// navigator; a plain object lets a test go offline); start() listens for online/offline on `window` and for
// visibilitychange on `document`, which an EventTarget each stands in for (visible, as a tab in front).
vi.stubGlobal('WebSocket', RecordedWebSocket);
const navigatorStub = { onLine: true };
vi.stubGlobal('navigator', navigatorStub);
vi.stubGlobal('window', new EventTarget());
vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));

// A ceiling, not a duration: a wait ends as soon as its condition holds. Generous for a loaded machine (two shared cores).
const WAIT = { timeout: 10_000, interval: 20 };

/** What the hub told its context. */
interface Heard {
  refused: [string, ErrorCode][];
  typing: Map<string, boolean>;
  online: Map<string, boolean>;
  reachable: boolean[];
  syncing: boolean[];
  errors: unknown[];
}

interface Setup {
  server: TestServer;
  me: string;
  peer: string;
  /** The peer's session (their token opens documents as them). */
  peerSession: Session;
  hub: SyncHub;
  /** The hub's context: a second hub of the same user (after a stop) takes it too. */
  ctx: HubContext;
  heard: Heard;
  /** The current segment's path between me and the peer. */
  path: string;
}

let hub: SyncHub | null = null;
let heard: Heard | null = null;
let run = 0;

beforeEach(async () => {
  navigatorStub.onLine = true;
  sockets.length = 0;
  await Promise.all(userTables.map((t) => db.table(t).clear()));
});

afterEach(async () => {
  hub?.stop();
  hub = null;
  await cleanup();
  // Anything the hub reported as an error fails the test that caused it.
  const errors = heard?.errors ?? [];
  heard = null;
  expect(errors).toEqual([]);
});

/**
 * A server, two users, and a started hub of the first. The names are new in
 * every test: a write of the previous test's hub still landing in the store
 * after its stop cannot touch this one's documents.
 */
async function setup(): Promise<Setup> {
  run++;
  const me = `alice${run}`;
  const peer = `bob${run}`;
  const server = await startServer();
  const [mine, peerSession] = await Promise.all([signUp(server.url, me), signUp(server.url, peer)]);
  heard = { refused: [], typing: new Map(), online: new Map(), reachable: [], syncing: [], errors: [] };
  const h = heard;
  const ctx: HubContext = {
    me,
    wsBase: server.wsUrl,
    token: () => mine.accessToken,
    tokenExpired: () => Promise.resolve(),
    refused: (path, code) => h.refused.push([path, code]),
    typing: (who, typing) => h.typing.set(who, typing),
    online: (who, online) => h.online.set(who, online),
    syncing: (busy) => h.syncing.push(busy),
    reachable: (reachable) => h.reachable.push(reachable),
    error: (e) => h.errors.push(e),
  };
  hub = new SyncHub(ctx);
  hub.start();
  return { server, me, peer, peerSession, hub, ctx, heard: h, path: conversationPath(me, peer, segmentOf(Date.now())) };
}

/** The peer's own copy of a conversation segment, synced. */
async function peerDoc(s: Setup, path = s.path): Promise<Client> {
  const client = openDoc(s.server, path, s.peerSession.accessToken);
  await synced(client);
  return client;
}

/** What the server holds open for me: sockets, and distinct documents. */
const held = (s: Setup): { sockets: number; docs: number } => s.server.parley.hub.heldBy(s.me);

/** The inbox and prefs documents, both connected: what a started hub holds with nothing else to do. */
async function started(s: Setup): Promise<void> {
  await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 2, docs: 2 }), WAIT);
}

const awarenessOf = (client: Client, user: string): Record<string, unknown>[] =>
  [...client.provider.awareness.getStates().values()].filter((state) => (state as { user?: unknown }).user === user);

/**
 * Stages a message as services/messaging.ts does (its outbox entry, its row, the list's preview), through the
 * same sync functions: the service itself is a layer above this test (it reads the signed-in session's state).
 */
async function stage(s: Setup, msg: Message): Promise<void> {
  const segment = segmentOf(msg.ts);
  const path = conversationPath(s.me, s.peer, segment);
  const entry: OutboxRow = { id: msg.id, path, conv: conversationId(s.me, s.peer), kind: 'message', peer: s.peer, message: msg, state: 'pending', createdAt: Date.now() };
  await stagePending(entry, messageRow(msg, undefined, s.me), { from: s.me, preview: 'preview', ts: msg.ts, segment });
}

/** Writes a staged message into its segment document, which the hub holds open for the outbox (messaging.ts's `write`). */
async function write(s: Setup, msg: Message): Promise<void> {
  const sd = await s.hub.conversationDoc(s.peer, segmentOf(msg.ts));
  sd.doc.getMap<unknown>('messages').set(msg.id, msg);
}

/** Sends a message as services/messaging.ts does: staged, then written. */
async function sendAsApp(s: Setup, msg: Message): Promise<string> {
  await stage(s, msg);
  await write(s, msg);
  return msg.id;
}

/** The state the conversation shows for one of my messages (as state/conversation.svelte.ts reads it). */
async function shownState(id: string): Promise<string | undefined> {
  const row = await db.messages.get(id);
  if (row === undefined) return undefined;
  const outbox = await db.outbox.get(id);
  return messageState({ seq: row.seq, outbox: outbox?.kind === 'message' ? outbox : undefined, peerDelivered: 0, peerRead: 0 });
}

describe('the sync hub', () => {
  it("materialises the peer's message: its row in messages, and the conversation's row (unread, last message) from the inbox", async () => {
    const s = await setup();
    const bob = await peerDoc(s);
    const sent = message(s.peer, s.me, 'hello from the peer');
    send(bob, sent);

    await vi.waitFor(async () => {
      expect(await db.conversations.get(s.peer)).toMatchObject({ lastId: sent.id, lastFrom: s.peer, preview: 'hello from the peer', lastSeq: 1, unread: 1 });
    }, WAIT);
    // The inbox moved past what the device holds: the background sync fetches the segment, and the row lands.
    await vi.waitFor(async () => {
      expect(await db.messages.get(sent.id)).toMatchObject({ conv: conversationId(s.me, s.peer), from: s.peer, text: 'hello from the peer', seq: 1 });
    }, WAIT);
    expect(s.heard.reachable).toContain(true);
    expect(s.heard.syncing).toContain(true);
  });

  it('opening a conversation opens its current segment (the peer sees me here); closing it releases the segment', async () => {
    const s = await setup();
    await started(s);
    const bob = await peerDoc(s);

    await s.hub.openConversation(s.peer);
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 3, docs: 3 }), WAIT);
    await vi.waitFor(() => expect(awarenessOf(bob, s.me)).toEqual([expect.objectContaining({ here: s.peer })]), WAIT);
    // And the peer's `here` reaches the hub's online callback.
    bob.provider.awareness.setLocalStateField('here', s.me);
    await vi.waitFor(() => expect(s.heard.online.get(s.peer)).toBe(true), WAIT);

    await s.hub.openConversation(null);
    expect(s.heard.online.get(s.peer)).toBe(false);
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 2, docs: 2 }), WAIT);
    await vi.waitFor(() => expect(awarenessOf(bob, s.me)).toEqual([]), WAIT);
  });

  it('a message sent through the outbox is acknowledged: its row goes from pending to sent, and the peer has it', async () => {
    const s = await setup();
    const bob = await peerDoc(s);
    const msg = message(s.me, s.peer, 'hello from me');
    const id = msg.id;
    await stage(s, msg);
    expect(await shownState(id)).toBe('pending');
    await write(s, msg);

    await vi.waitFor(async () => expect(await db.outbox.get(id)).toBeUndefined(), WAIT);
    await vi.waitFor(async () => expect(await shownState(id)).toBe('sent'), WAIT);
    expect((await db.messages.get(id))?.seq).toBe(1);
    await vi.waitFor(() => expect(bob.doc.getMap('seq').get(id)).toBe(1), WAIT);
    // Once acknowledged, nothing holds the segment open for the outbox.
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 2, docs: 2 }), WAIT);
  });

  it('a message staged while the hub was not running goes out when it starts (the outbox resumes)', async () => {
    const s = await setup();
    s.hub.stop();
    const msg = message(s.me, s.peer, 'written offline');
    await stage(s, msg);
    expect(await shownState(msg.id)).toBe('pending');

    const again = new SyncHub(s.ctx);
    hub = again;
    again.start();
    await vi.waitFor(async () => expect(await shownState(msg.id)).toBe('sent'), WAIT);
    const bob = await peerDoc(s);
    expect(bob.doc.getMap('messages').get(msg.id)).toMatchObject({ body: [{ type: 'text', text: 'written offline' }] });
  });

  it("a message the server refuses fails with the refusal's code, and the copy starts over so that the next one goes", async () => {
    const s = await setup();
    const bob = await peerDoc(s);
    // Signed with the peer's name: the server applies nothing of the update and rejects it.
    const forged = await sendAsApp(s, message(s.peer, s.me, 'not mine to send'));
    await vi.waitFor(async () => expect(await db.outbox.get(forged)).toMatchObject({ state: 'failed', code: 'not-author' }), WAIT);
    expect(await shownState(forged)).toBe('failed');

    // The refused copy was ahead of the server under its client id: without the reset the next write would never land.
    const next = await sendAsApp(s, message(s.me, s.peer, 'this one goes'));
    await vi.waitFor(async () => expect(await shownState(next)).toBe('sent'), WAIT);
    await vi.waitFor(() => expect(bob.doc.getMap('seq').get(next)).toBe(1), WAIT);
    expect(bob.doc.getMap('messages').has(forged)).toBe(false);
  });

  describe('with an expired token', () => {
    /** The setup's hub stopped, and a new one started with an expired token; the fresh one comes when `refresh` ends. */
    async function expiredHub(s: Setup, refresh: (expired: string) => Promise<void>): Promise<{ refreshed: () => number }> {
      s.hub.stop();
      const fresh = s.ctx.token();
      const { token: expired } = await s.server.parley.tokens.issueAccess(s.me, 'test-device', sessionIdOf({ accessToken: fresh }), Math.floor(Date.now() / 1000) - 60);
      let token = expired;
      let refreshed = 0;
      hub = new SyncHub({
        ...s.ctx,
        token: () => token,
        tokenExpired: async () => {
          refreshed++;
          await refresh(expired);
          token = fresh;
        },
      });
      hub.start();
      return { refreshed: () => refreshed };
    }

    it('connects again with the fresh token when the refresh ends before the refused socket has closed', async () => {
      const s = await setup();
      // Another tab refreshed already: the refresh ends at once, before the server's close of the refused socket arrives.
      const { refreshed } = await expiredHub(s, () => Promise.resolve());
      await started(s);
      expect(refreshed()).toBeGreaterThan(0);
      expect(s.heard.refused).toEqual([]);
    });

    it('refreshes once for the documents refused while the refresh is under way, and connects them all again', async () => {
      const s = await setup();
      // A refresh slower than the refusals: it ends once both sockets opened with the expired token (the inbox's
      // and the prefs') have closed, so that both refusals arrive while it is under way.
      const { refreshed } = await expiredHub(s, (expired) =>
        vi.waitFor(() => {
          const refused = sockets.filter((ws) => ws.url.includes(expired));
          expect(refused.map((ws) => ws.readyState)).toEqual([WebSocket.CLOSED, WebSocket.CLOSED]);
        }, WAIT),
      );
      await started(s);
      expect(s.heard.refused).toEqual([]);
      expect(refreshed()).toBe(1);
    });
  });

  it('writes the delivered receipt in the background, and the read receipt and read marker once the conversation is open', async () => {
    const s = await setup();
    const bob = await peerDoc(s);
    send(bob, message(s.peer, s.me, 'read me'));
    const receipts = bob.doc.getMap<{ seq: number }>('receipts');

    await vi.waitFor(() => expect(receipts.get(receiptKey(s.me, 'delivered'))?.seq).toBe(1), WAIT);
    expect(receipts.get(receiptKey(s.me, 'read'))).toBeUndefined();
    expect(await db.conversations.get(s.peer)).toMatchObject({ unread: 1 });

    await s.hub.openConversation(s.peer);
    await vi.waitFor(() => expect(receipts.get(receiptKey(s.me, 'read'))?.seq).toBe(1), WAIT);
    // The read marker (prefs, for my other devices) moved too, and the server counts nothing unread.
    expect((await s.hub.prefsDoc())?.getMap('read').get(s.peer)).toEqual({ seq: 1 });
    await vi.waitFor(async () => expect(await db.conversations.get(s.peer)).toMatchObject({ unread: 0 }), WAIT);
  });

  it("relays the peer's typing to the typing callback (through the inbox), and mine to the peer once the conversation is open", async () => {
    const s = await setup();
    await started(s);
    const bob = await peerDoc(s);

    // The conversation is not open here: the server relays the peer's typing into my inbox's awareness.
    bob.provider.awareness.setLocalStateField('typing', s.me);
    await vi.waitFor(() => expect(s.heard.typing.get(s.peer)).toBe(true), WAIT);
    bob.provider.awareness.setLocalStateField('typing', null);
    await vi.waitFor(() => expect(s.heard.typing.get(s.peer)).toBe(false), WAIT);

    await s.hub.openConversation(s.peer);
    s.hub.setTyping(s.peer, true);
    await vi.waitFor(() => expect(awarenessOf(bob, s.me)).toEqual([expect.objectContaining({ typing: s.peer })]), WAIT);
    s.hub.setTyping(s.peer, false);
    await vi.waitFor(() => expect(awarenessOf(bob, s.me)).toEqual([expect.objectContaining({ typing: null })]), WAIT);
  });

  it("calls refused with the server's code for a document it may not open", async () => {
    const s = await setup();
    // Nobody holds this id: the conversation's segment is refused for good.
    await s.hub.openConversation('ghost');
    await vi.waitFor(() => expect(s.heard.refused).toEqual([[conversationPath(s.me, 'ghost', segmentOf(Date.now())), 'user-not-found']]), WAIT);
  });

  it('goes offline and online with the window, and stop() closes every socket', async () => {
    const s = await setup();
    await started(s);
    await s.hub.openConversation(s.peer);
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 3, docs: 3 }), WAIT);

    navigatorStub.onLine = false;
    window.dispatchEvent(new Event('offline'));
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 0, docs: 0 }), WAIT);
    navigatorStub.onLine = true;
    window.dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 3, docs: 3 }), WAIT);

    s.hub.stop();
    await vi.waitFor(() => expect(held(s)).toEqual({ sockets: 0, docs: 0 }), WAIT);
  });
});
