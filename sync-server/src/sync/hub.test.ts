import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationPath, DEFAULT_SYNC_LIMITS, MESSAGE_CONTROL, MESSAGE_SYNC, parseControlFrame, SERVER_CLAIM, segmentOf, type ControlFrame, type Message } from '@parley/protocol';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { createLog } from '../log.ts';
import { MemoryStorage } from '../storage/memory.ts';
import { syncUpdateMessage } from './frames.ts';
import type { Outlet } from './connection.ts';
import { SyncHub, type HubOptions } from './hub.ts';

const hubs: SyncHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});

const path = conversationPath('alice', 'bob', segmentOf(Date.now()));
const msg = (id: string): Message => ({
  id,
  from: 'alice',
  to: 'bob',
  type: 'text',
  body: [{ type: 'text', text: id }],
  ts: Date.now(),
  profile: { nickname: 'alice' },
});

/** A transport that takes every frame at once (it is always drained). */
const outlet = (send: (bytes: Uint8Array) => void): Outlet => ({ send, drained: () => Promise.resolve() });

/** A storage holding the accounts of alice and bob: the hub opens conversations only with users that exist. */
async function storageWithUsers(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  for (const id of ['alice', 'bob']) await storage.createUser({ id, passwordHash: null, nickname: id, avatar: null, role: 'user', created: Date.now() });
  return storage;
}

/** Alice's connection: `frames` are the control frames after the `limits` frame, `types` every message type in order. */
async function openAsAlice(options: HubOptions = {}) {
  const hub = new SyncHub(await storageWithUsers(), 60_000, createLog('silent'), options);
  hubs.push(hub);
  const frames: ControlFrame[] = [];
  const limits: ControlFrame[] = [];
  const types: number[] = [];
  const opened = await hub.open(
    path,
    'alice',
    'd',
    outlet((bytes) => {
      const decoder = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(decoder);
      types.push(type);
      if (type === MESSAGE_CONTROL) {
        const frame = parseControlFrame(decoding.readVarString(decoder));
        // The peer's presence at open answers nothing this connection sent.
        if (frame !== null && frame.type !== 'peer') (frame.type === 'limits' ? limits : frames).push(frame);
      }
    }),
  );
  if (!opened.ok) throw new Error(opened.code);
  return { hub, connection: opened.connection, frames, limits, types };
}

describe('the sync hub', () => {
  it('tells a connection its limits before its sync step 1', async () => {
    const { limits, types } = await openAsAlice({ maxFrameBytes: 2 * 1024 * 1024, updateBudget: { maxBytes: 1024 * 1024, maxStructs: 500 }, writeRate: { rate: 5, burst: 20 } });
    expect(limits).toEqual([{ type: 'limits', maxFrameBytes: 2 * 1024 * 1024, maxUpdateBytes: 1024 * 1024, maxUpdateStructs: 500, writeBurst: 20 }]);
    expect(types.slice(0, 2)).toEqual([MESSAGE_CONTROL, MESSAGE_SYNC]);
    const defaults = await openAsAlice();
    expect(defaults.limits).toEqual([{ type: 'limits', ...DEFAULT_SYNC_LIMITS }]);
  });

  it("takes another server client id when a user's update claims the server's current one", async () => {
    const { connection, frames } = await openAsAlice();
    const live = connection.live;
    const serverId = live.doc.clientID;
    const client = new Y.Doc();
    client.clientID = serverId;
    client.getMap('messages').set('m1', msg('m1'));
    connection.receive(syncUpdateMessage(Y.encodeStateAsUpdate(client)));
    await live.committed();
    const claims = live.doc.getMap<{ user: string }>('clients');
    expect(claims.get(String(serverId))).toEqual({ user: 'alice' });
    expect(live.doc.clientID).not.toBe(serverId);
    expect(claims.get(String(live.doc.clientID))).toEqual({ user: SERVER_CLAIM });
    expect(live.doc.getMap('seq').get('m1')).toBe(1);
    expect(frames).toEqual([{ type: 'ack', client: serverId, clock: 1, msgIds: ['m1'] }]);
    client.destroy();
  });

  it('rejects a refused update whole and applies nothing of it', async () => {
    const { connection, frames } = await openAsAlice();
    const client = new Y.Doc();
    client.transact(() => {
      client.getMap('messages').set('ok', msg('ok'));
      client.getMap('seq').set('ok', 99);
    });
    connection.receive(syncUpdateMessage(Y.encodeStateAsUpdate(client)));
    await connection.live.committed();
    expect(frames).toMatchObject([{ type: 'reject', code: 'read-only', msgIds: ['ok'] }]);
    expect(connection.live.doc.getMap('messages').size).toBe(0);
    client.destroy();
  });
});

describe('relaying an accepted update', () => {
  it('sends the sender only the server part and every other connection the whole update', async () => {
    const hub = new SyncHub(await storageWithUsers(), 60_000, createLog('silent'));
    hubs.push(hub);
    const received = { sender: new Y.Doc(), other: new Y.Doc() };
    const updates = { sender: 0, other: 0 };
    const open = async (who: 'sender' | 'other') => {
      const opened = await hub.open(
        path,
        who === 'sender' ? 'alice' : 'bob',
        who,
        outlet((bytes) => {
          const decoder = decoding.createDecoder(bytes);
          if (decoding.readVarUint(decoder) !== MESSAGE_SYNC || decoding.readVarUint(decoder) !== 2) return;
          updates[who]++;
          Y.applyUpdate(received[who], decoding.readVarUint8Array(decoder));
        }),
      );
      if (!opened.ok) throw new Error(opened.code);
      return opened.connection;
    };
    const sender = await open('sender');
    await open('other');
    const client = new Y.Doc();
    const m1 = msg('m1');
    client.getMap('messages').set('m1', m1);
    sender.receive(syncUpdateMessage(Y.encodeStateAsUpdate(client)));
    await sender.live.committed();
    expect(updates).toEqual({ sender: 1, other: 1 });
    expect(received.sender.getMap('seq').get('m1')).toBe(1);
    expect(received.sender.getMap('messages').size).toBe(0);
    expect(received.other.getMap('seq').get('m1')).toBe(1);
    expect(received.other.getMap('messages').get('m1')).toEqual(m1);
    client.destroy();
  });
});

describe('answering sync step 1', () => {
  /** A sync step 1 frame with `doc`'s state vector. */
  const stepOne = (doc = new Y.Doc()): Uint8Array => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint8Array(encoder, Y.encodeStateVector(doc));
    return encoding.toUint8Array(encoder);
  };
  /** Lets queued promise callbacks and I/O callbacks run. */
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  async function openWithGate() {
    const hub = new SyncHub(await storageWithUsers(), 60_000, createLog('silent'));
    hubs.push(hub);
    const answers: Y.Doc[] = [];
    let open: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    let asked = 0;
    const opened = await hub.open(path, 'alice', 'd', {
      send: (bytes) => {
        const decoder = decoding.createDecoder(bytes);
        if (decoding.readVarUint(decoder) !== MESSAGE_SYNC || decoding.readVarUint(decoder) !== 1) return;
        const doc = new Y.Doc();
        Y.applyUpdate(doc, decoding.readVarUint8Array(decoder));
        answers.push(doc);
      },
      drained: () => {
        asked++;
        return gate;
      },
    });
    if (!opened.ok) throw new Error(opened.code);
    return {
      connection: opened.connection,
      answers,
      drainedAsked: () => asked,
      /** From now on the transport is "not drained" until `release()`. */
      block: (): void => {
        gate = new Promise((resolve) => (open = resolve));
      },
      release: () => open(),
    };
  }

  it('builds one answer for a flood of requests, and only once the transport drained', async () => {
    const { connection, answers, drainedAsked, block, release } = await openWithGate();
    block();
    for (let i = 0; i < 50; i++) connection.receive(stepOne());
    await settle();
    expect(answers).toHaveLength(0);
    expect(drainedAsked()).toBe(1);
    release();
    await settle();
    expect(answers).toHaveLength(1);
  });

  it('answers from committed state: a write queued before the request is in the answer, sent after its commit', async () => {
    const { connection, answers } = await openWithGate();
    const client = new Y.Doc();
    client.getMap('messages').set('m1', msg('m1'));
    connection.receive(syncUpdateMessage(Y.encodeStateAsUpdate(client)));
    connection.receive(stepOne());
    expect(connection.live.pending).toBe(1);
    expect(answers).toHaveLength(0);
    await connection.live.committed();
    await settle();
    expect(answers).toHaveLength(1);
    expect(answers[0]?.getMap('messages').has('m1')).toBe(true);
    expect(answers[0]?.getMap('seq').get('m1')).toBe(1);
    client.destroy();
  });
});
