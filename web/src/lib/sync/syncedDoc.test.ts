import 'fake-indexeddb/auto';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { conversationPath, segmentOf, type ControlFrame } from '@parley/protocol';
import { cleanup, message, openDoc, send, signUp, startServer, synced as clientSynced } from '../../../../sync-server/test/helpers.ts';
import { loadDoc } from './persistence.ts';
import { SyncedDoc, type SyncedDocHooks } from './syncedDoc.ts';

// Node 20 has no global WebSocket, which y-websocket's provider opens: the `ws` package's client is the same API.
vi.stubGlobal('WebSocket', WebSocket);

// A ceiling, not a duration: a wait ends as soon as its condition holds. Generous for a loaded machine (two shared cores).
const WAIT = { timeout: 10_000, interval: 20 };

const opened: SyncedDoc[] = [];
afterEach(async () => {
  for (const synced of opened.splice(0)) synced.destroy();
  await cleanup();
});

function offlineDoc(): SyncedDoc {
  const synced = new SyncedDoc({
    path: conversationPath('alice', 'bob', '2026-12'),
    wsBase: 'ws://127.0.0.1:9/sync',
    token: () => 'token',
    shouldConnect: () => false,
    hooks: {
      attach: () => () => {},
      control: () => {},
      synced: () => {},
      error: (e) => {
        throw e;
      },
    },
  });
  opened.push(synced);
  return synced;
}

describe('SyncedDoc.reset', () => {
  it('resets a copy once, however many refusals of its pieces ask for it, early or late', async () => {
    const synced = offlineDoc();
    await synced.ready;
    const first = synced.doc;
    // A slow-down on one piece, then reset-required for each piece sent after it.
    await Promise.all([synced.reset(first), synced.reset(first), synced.reset(first)]);
    const second = synced.doc;
    expect(second).not.toBe(first);
    expect(first.isDestroyed).toBe(true);
    // A refusal of the old copy that arrives after its reset leaves the new copy alone.
    await synced.reset(first);
    expect(synced.doc).toBe(second);
    expect(second.isDestroyed).toBe(false);
    // A refusal of the new copy resets it in turn.
    await synced.reset(second);
    expect(synced.doc).not.toBe(second);
  });
});

/** What a SyncedDoc's hooks heard. */
interface Heard {
  synced: number;
  control: Exclude<ControlFrame, { type: 'limits' }>[];
  errors: unknown[];
}

let run = 0;

/** A server and two users; names new in every test, so that no test reads another's stored documents. */
async function pair() {
  run++;
  const me = `alice${run}`;
  const peer = `bob${run}`;
  const server = await startServer();
  const [mine, theirs] = await Promise.all([signUp(server.url, me), signUp(server.url, peer)]);
  return { server, me, peer, mine, theirs, path: conversationPath(me, peer, segmentOf(Date.now())) };
}

function syncedDoc(path: string, wsBase: string, token: string, online: boolean): { synced: SyncedDoc; heard: Heard } {
  const heard: Heard = { synced: 0, control: [], errors: [] };
  const hooks: SyncedDocHooks = {
    attach: () => () => {},
    control: (frame) => heard.control.push(frame),
    synced: () => heard.synced++,
    error: (e) => heard.errors.push(e),
  };
  const synced = new SyncedDoc({ path, wsBase, token: () => token, shouldConnect: () => online, hooks });
  opened.push(synced);
  return { synced, heard };
}

const acked = (heard: Heard): string[] => heard.control.flatMap((f) => (f.type === 'ack' ? f.msgIds : []));

describe('SyncedDoc with the server', () => {
  it("syncs: the synced hook fires, the peer's write arrives, and its own write is acknowledged and reaches the peer", async () => {
    const { server, me, peer, mine, theirs, path } = await pair();
    const { synced, heard } = syncedDoc(path, server.wsUrl, mine.accessToken, true);
    await synced.ready;
    await synced.whenSynced();
    expect(heard.synced).toBe(1);
    expect(synced.synced).toBe(true);

    const bob = openDoc(server, path, theirs.accessToken);
    await clientSynced(bob);
    const fromPeer = message(peer, me, 'from the peer');
    send(bob, fromPeer);
    await vi.waitFor(() => expect(synced.doc.getMap('messages').get(fromPeer.id)).toMatchObject({ from: peer }), WAIT);
    // The server's sequence comes with it.
    await vi.waitFor(() => expect(synced.doc.getMap('seq').get(fromPeer.id)).toBe(1), WAIT);

    const mineMsg = message(me, peer, 'from me');
    synced.doc.getMap('messages').set(mineMsg.id, mineMsg);
    // The control frames (message type 20) reach the hook: the ack of the write.
    await vi.waitFor(() => expect(acked(heard)).toContain(mineMsg.id), WAIT);
    await vi.waitFor(() => expect(bob.doc.getMap('seq').get(mineMsg.id)).toBe(2), WAIT);
    expect(heard.errors).toEqual([]);
  });

  it('keeps its copy in the store: a new SyncedDoc loads it offline, without the server', async () => {
    const { server, me, peer, mine, theirs, path } = await pair();
    const bob = openDoc(server, path, theirs.accessToken);
    await clientSynced(bob);
    const fromPeer = message(peer, me, 'kept on the device');
    send(bob, fromPeer);
    const first = syncedDoc(path, server.wsUrl, mine.accessToken, true);
    await vi.waitFor(() => expect(first.synced.doc.getMap('seq').get(fromPeer.id)).toBe(1), WAIT);
    // Wait until the store holds what arrived (its writes are chained behind the updates).
    await vi.waitFor(async () => {
      const stored = new Y.Doc();
      await loadDoc(path, stored);
      expect(stored.getMap('seq').get(fromPeer.id)).toBe(1);
    }, WAIT);
    first.synced.destroy();
    await cleanup();

    // The server is gone and this copy never connects: what it holds came from the store.
    const again = syncedDoc(path, 'ws://127.0.0.1:9/sync', 'no-token', false);
    await again.synced.ready;
    expect(again.synced.doc.getMap('messages').get(fromPeer.id)).toMatchObject({ from: peer, body: [{ type: 'text', text: 'kept on the device' }] });
    expect(again.synced.doc.getMap('seq').get(fromPeer.id)).toBe(1);
    expect(again.synced.synced).toBe(false);
    expect(again.heard.synced).toBe(0);
    expect([...first.heard.errors, ...again.heard.errors]).toEqual([]);
  });

  it("hands a refusal of the document to the control hook with the server's code", async () => {
    const { server, peer, mine } = await pair();
    // A conversation between two others: not mine to read.
    const theirs = conversationPath(peer, `carol${run}`, segmentOf(Date.now()));
    const { heard } = syncedDoc(theirs, server.wsUrl, mine.accessToken, true);
    await vi.waitFor(() => expect(heard.control).toContainEqual(expect.objectContaining({ type: 'refused', code: 'not-member' })), WAIT);
    expect(heard.synced).toBe(0);
  });
});
