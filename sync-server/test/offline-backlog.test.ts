/**
 * A device back from a long offline spell with more unsent writes than one
 * frame may carry (issue 13, fault 5), against a real server process: its
 * reconnect must send its state in frames under the server's limits, every
 * message must be acknowledged, and the peer must receive all of them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { bodyBytes, conversationPath, DEFAULT_SYNC_LIMITS, LIMITS, type ControlFrame, type Message } from '@parley/protocol';
// The web app's own code: it imports nothing of the browser.
import { sendInPieces } from '@parley/web/src/lib/sync/pieces.ts';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/config/values.ts';
import { acks, cleanup, message, openDoc, send, signUp, startServer, synced, tempDir, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses, startProcess } from './process.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

/** A text message whose body is exactly the largest a message may be (LIMITS.bodyBytes of UTF-8 JSON). */
function largest(from: string, to: string, n: number): Message {
  const empty = message(from, to, '');
  const text = `${n} `.padEnd(LIMITS.bodyBytes - bodyBytes(empty.body), 'x');
  const full = { ...empty, body: [{ type: 'text' as const, text }] };
  if (bodyBytes(full.body) !== LIMITS.bodyBytes) throw new Error('the body is not the largest size');
  return full;
}

/** Opens `doc` as the web app does (lib/sync/syncedDoc.ts): updates in pieces within the limits the server announces; records every frame it sends. */
function openAsApp(server: TestServer, path: string, token: string, doc: Y.Doc): Client & { sent: number[]; closes: number[]; limits: ControlFrame[] } {
  const client = Object.assign(openDoc(server, path, token, doc), { sent: [] as number[], closes: [] as number[], limits: [] as ControlFrame[] });
  const pieces = sendInPieces(client.provider);
  client.onFrame = (frame) => {
    if (frame.type !== 'limits') return;
    client.limits.push(frame);
    pieces.heard(frame);
  };
  const record = (ws: WebSocket | null): void => {
    if (ws === null) return;
    const send = ws.send.bind(ws);
    ws.send = (data: Uint8Array) => {
      client.sent.push(data.byteLength);
      send(data);
    };
  };
  // The provider opened its first socket already; each reconnect opens another.
  record(client.provider.ws as WebSocket | null);
  client.provider.on('status', ({ status }: { status: string }) => {
    if (status === 'connecting') record(client.provider.ws as WebSocket | null);
  });
  client.provider.on('connection-close', (event: { code: number } | null) => {
    if (event !== null) client.closes.push(event.code);
  });
  return client;
}

/** `n` of the largest messages, written offline into `doc` in one transaction. */
function writeOffline(doc: Y.Doc, n: number): Message[] {
  const backlog: Message[] = [];
  doc.transact(() => {
    for (let i = 0; i < n; i++) {
      const m = largest('alice', 'bob', i);
      backlog.push(m);
      doc.getMap('messages').set(m.id, m);
    }
  });
  return backlog;
}

/** Alice's device syncs once (her first message claims its client id), then goes offline; returns its copy. */
async function syncedOnce(server: TestServer, path: string, token: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  const first = openDoc(server, path, token, doc);
  await synced(first);
  const hello = message('alice', 'bob', 'hello');
  send(first, hello);
  await waitFor(() => acks(first).includes(hello.id), 'the first ack');
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  first.destroy();
  return copy;
}

/** Waits until every message of `backlog` is acknowledged to `device`, saying how far it got otherwise. */
async function allAcked(device: ReturnType<typeof openAsApp>, backlog: readonly Message[], timeout: number): Promise<void> {
  try {
    await waitFor(
      () => {
        const acked = new Set(acks(device));
        return backlog.every((m) => acked.has(m.id));
      },
      'every backlog message acknowledged',
      timeout,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${acks(device).length} of ${backlog.length} acked, closes ${JSON.stringify(device.closes)}`);
  }
}

/** The peer's device syncs the conversation: every message is there, and stamped. */
async function expectDelivered(server: TestServer, path: string, token: string, backlog: readonly Message[], total: number): Promise<void> {
  const peer = openDoc(server, path, token);
  try {
    await waitFor(() => peer.provider.synced, 'the peer synced', 30_000);
    const seq = peer.doc.getMap<number>('seq');
    expect(peer.doc.getMap('messages').size).toBe(total);
    expect(backlog.filter((m) => typeof seq.get(m.id) !== 'number')).toEqual([]);
  } finally {
    peer.destroy();
  }
}

describe('a device with a large backlog of offline writes', () => {
  it('sends 1,400 of the largest messages written offline (over 16 MiB) in frames under the limit: all acknowledged, all delivered', async () => {
    const { server } = await startProcess(tempDir());
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const copy = await syncedOnce(server, path, alice.accessToken);
    const before = Y.encodeStateVector(copy);
    const backlog = writeOffline(copy, 1400);
    expect(Y.encodeStateAsUpdate(copy, before).length).toBeGreaterThan(DEFAULT_SYNC_LIMITS.maxFrameBytes);

    // Back online: the device reconnects with what it stored.
    const device = openAsApp(server, path, alice.accessToken, copy);
    await allAcked(device, backlog, 60_000);
    expect(device.closes).toEqual([]);
    expect(device.limits).toEqual([{ type: 'limits', ...DEFAULT_SYNC_LIMITS, writeBurst: 100_000 }]);
    // 28 pieces of 50 messages (the burst is high here: 100,000), about 600 KB each.
    expect(device.sent.filter((bytes) => bytes > 500_000).length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...device.sent)).toBeLessThanOrEqual(DEFAULT_SYNC_LIMITS.maxUpdateBytes + 16);
    await expectDelivered(server, path, bob.accessToken, backlog, 1401);
  }, 120_000);

  it('sends in pieces within a smaller PARLEY_MAX_FRAME_BYTES and PARLEY_MAX_UPDATE_BYTES, as the server announces them', async () => {
    const server = await startServer({ env: { PARLEY_MAX_FRAME_BYTES: String(256 * 1024), PARLEY_MAX_UPDATE_BYTES: String(192 * 1024), PARLEY_MESSAGE_BURST: '30', PARLEY_MESSAGE_RATE: '1' } });
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const copy = await syncedOnce(server, path, alice.accessToken);
    // 29 more: with the first, within one full bucket, yet 360 KB, over the frame limit in one update.
    const backlog = writeOffline(copy, 29);
    const device = openAsApp(server, path, alice.accessToken, copy);
    await allAcked(device, backlog, 20_000);
    expect(device.limits).toEqual([{ type: 'limits', maxFrameBytes: 256 * 1024, maxUpdateBytes: 192 * 1024, maxUpdateStructs: 10_000, writeBurst: 30 }]);
    expect(device.closes).toEqual([]);
    expect(device.sent.filter((bytes) => bytes > 100_000).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...device.sent)).toBeLessThanOrEqual(192 * 1024 + 16);
    await expectDelivered(server, path, bob.accessToken, backlog, 30);
  });

  it('closes a frame over PARLEY_MAX_FRAME_BYTES with 1009, as a stock client sends it, and logs it', async () => {
    const lines: string[] = [];
    const server = await startServer({ env: { PARLEY_MAX_FRAME_BYTES: String(256 * 1024), PARLEY_MAX_UPDATE_BYTES: String(192 * 1024), PARLEY_LOG_LEVEL: 'warn' }, logTo: { write: (line: string) => lines.push(line) } });
    const alice = await signUp(server.url, 'alice');
    const path = conversationPath('alice', 'bob', thisSegment());
    await signUp(server.url, 'bob');
    const copy = await syncedOnce(server, path, alice.accessToken);
    writeOffline(copy, 29);
    const stock = openDoc(server, path, alice.accessToken, copy);
    await waitFor(() => stock.closeCode !== null, 'the close');
    expect(stock.closeCode).toBe(1009);
    stock.destroy();
    await waitFor(() => lines.some((l) => l.includes('PARLEY_MAX_FRAME_BYTES')), 'the log line');
  });

  it('refuses to start with an update budget that does not fit in a frame', () => {
    const env = { PARLEY_DATA_DIR: tempDir(), PARLEY_MAX_FRAME_BYTES: String(1024 * 1024) };
    expect(() => loadConfig({ ...env, PARLEY_MAX_UPDATE_BYTES: String(1024 * 1024) })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, PARLEY_MAX_UPDATE_BYTES: String(1024 * 1024) })).toThrow(/PARLEY_MAX_UPDATE_BYTES .* PARLEY_MAX_FRAME_BYTES/);
    expect(loadConfig({ ...env, PARLEY_MAX_UPDATE_BYTES: String(1023 * 1024) }).maxFrameBytes).toBe(1024 * 1024);
    // loadConfig generated the secrets above; a data dir with secrets and no database is refused, so a fresh one.
    expect(loadConfig({ PARLEY_DATA_DIR: tempDir() }).maxFrameBytes).toBe(16 * 1024 * 1024);
  });
});
