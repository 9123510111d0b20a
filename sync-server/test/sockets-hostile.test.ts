/**
 * The sync socket against hostile clients and dead networks: liveness (ping,
 * pong, terminate), handshake timeouts, caps on sockets and documents per
 * user, and malformed frames. Raw `ws` and `node:net` clients play the
 * hostile side; real y-websocket clients the honest one.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  CLOSE_CODES,
  CLOSE_MALFORMED,
  conversationPath,
  MESSAGE_AWARENESS,
  MESSAGE_CONTROL,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SYNC,
  parseControlFrame,
  type ControlFrame,
} from '@parley/protocol';
import { loadConfig } from '../src/config.ts';
import { acks, api, cleanup, message, openDoc, send, signUp, startServer, synced, tempDir, thisSegment, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);
const opened: { close(): void }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

/** A raw sync socket: what it received, how it closed; `autoPong: false` plays a device whose network died. */
interface RawSocket {
  ws: WebSocket;
  frames: ControlFrame[];
  /** Every binary message received, by message type. */
  types: number[];
  closeCode: number | null;
}

function rawSocket(server: TestServer, path: string, token: string, options: { autoPong?: boolean } = {}): RawSocket {
  const ws = new WebSocket(`${server.wsUrl}/${path}?token=${encodeURIComponent(token)}`, { autoPong: options.autoPong ?? true });
  const raw: RawSocket = { ws, frames: [], types: [], closeCode: null };
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    const type = decoding.readVarUint(decoder);
    raw.types.push(type);
    if (type === MESSAGE_CONTROL) {
      const frame = parseControlFrame(decoding.readVarString(decoder));
      if (frame !== null) raw.frames.push(frame);
    }
  });
  ws.on('close', (code) => {
    raw.closeCode = code;
  });
  ws.on('error', () => undefined);
  opened.push({ close: () => ws.terminate() });
  return raw;
}

/** Resolves once the server opened the socket on its document (its sync step 1 arrived). */
const openOnDoc = (raw: RawSocket): Promise<void> => waitFor(() => raw.types.includes(MESSAGE_SYNC), 'sync step 1 from the server');

function awarenessFrame(state: Record<string, unknown>): { frame: Uint8Array; client: number } {
  const doc = new Y.Doc();
  const awareness = new awarenessProtocol.Awareness(doc);
  awareness.setLocalState(state);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]));
  const client = doc.clientID;
  awareness.destroy();
  doc.destroy();
  return { frame: encoding.toUint8Array(encoder), client };
}

describe('liveness', () => {
  it('terminates a socket that misses its pong, and its presence, typing and online state go at once', async () => {
    const server = await startServer({ env: { PARLEY_PING_INTERVAL_MS: '2000' } });
    const alice = await signUp(server.url, 'alice', 'alice-phone');
    const bob = await signUp(server.url, 'bob', 'bob-laptop');
    const path = conversationPath('alice', 'bob', thisSegment());

    // Bob's laptop: an honest y-websocket client (its \`ws\` answers pings).
    const bobChat = openDoc(server, path, bob.accessToken);
    const bobInbox = openDoc(server, 'inbox/bob', bob.accessToken);
    await synced(bobChat);
    await synced(bobInbox);
    const typingToBob = (): string[] =>
      [...bobInbox.provider.awareness.getStates().values()].flatMap((s) => {
        const typing = (s as { typing?: unknown }).typing;
        return Array.isArray(typing) ? typing.filter((t): t is string => typeof t === 'string') : [];
      });
    // Alice's sockets live one to two ping intervals: what Bob sees meanwhile is recorded as it happens.
    const { frame, client } = awarenessFrame({ typing: 'bob' });
    let presenceSeen = false;
    let typingSeen = false;
    bobChat.provider.awareness.on('change', () => {
      presenceSeen ||= bobChat.provider.awareness.getStates().has(client);
    });
    bobInbox.provider.awareness.on('change', () => {
      typingSeen ||= typingToBob().includes('alice');
    });

    // Alice's phone: an inbox and a conversation socket that never answer a ping.
    const aliceInbox = rawSocket(server, 'inbox/alice', alice.accessToken, { autoPong: false });
    await openOnDoc(aliceInbox);
    expect(server.parley.hub.devicesOnline('alice')).toEqual(['alice-phone']);
    const aliceChat = rawSocket(server, path, alice.accessToken, { autoPong: false });
    await openOnDoc(aliceChat);
    aliceChat.ws.send(frame);
    await waitFor(() => presenceSeen && typingSeen, "alice's presence at bob, and her typing relayed into bob's inbox");

    await waitFor(() => aliceInbox.closeCode !== null && aliceChat.closeCode !== null, 'the server terminating the silent sockets', 10_000);
    await waitFor(() => server.parley.hub.devicesOnline('alice').length === 0, 'alice offline');
    await waitFor(() => bobChat.provider.wsconnected && !bobChat.provider.awareness.getStates().has(client), "alice's presence gone at bob");
    await waitFor(() => bobInbox.provider.wsconnected && !typingToBob().includes('alice'), "alice's typing gone from bob's inbox");
    // The honest client answers its pings and stays online.
    await waitFor(() => server.parley.hub.devicesOnline('bob').includes('bob-laptop'), 'bob online');
  }, 30_000);
});

describe('handshake timeouts', () => {
  /** A TCP connection to the server; `closed` is set when the server ends it. */
  function tcp(server: TestServer, send?: string): { socket: Socket; closed: () => boolean } {
    const socket = connect(server.parley.port, '127.0.0.1');
    let closed = false;
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => undefined);
    // Read (and drop) what the server answers, so that its end of the connection is seen.
    socket.on('data', () => undefined);
    if (send !== undefined) socket.on('connect', () => socket.write(send));
    opened.push({ close: () => socket.destroy() });
    return { socket, closed: () => closed };
  }

  it('drops silent TCP connections and half-sent upgrades, while an honest client connects and stays', async () => {
    const server = await startServer({ env: { PARLEY_HANDSHAKE_TIMEOUT_MS: '500' } });
    const alice = await signUp(server.url, 'alice');
    const silent = Array.from({ length: 200 }, () => tcp(server));
    const halfSent = Array.from({ length: 100 }, () =>
      tcp(server, `GET /sync/inbox/alice?token=${alice.accessToken} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`),
    );
    const honest = openDoc(server, 'inbox/alice', alice.accessToken);
    await synced(honest);
    await waitFor(() => silent.every((c) => c.closed()), 'every silent connection closed by the server', 20_000);
    await waitFor(() => halfSent.every((c) => c.closed()), 'every half-sent upgrade closed by the server', 20_000);
    // Open for longer than the handshake timeout, and still there.
    expect(honest.closeCode).toBeNull();
    expect(honest.provider.wsconnected).toBe(true);
    expect(server.parley.hub.devicesOnline('alice')).toEqual(['test-device']);
  }, 30_000);

  it('drops an upgraded socket that is never authenticated', async () => {
    const server = await startServer({ env: { PARLEY_HANDSHAKE_TIMEOUT_MS: '300' } });
    const alice = await signUp(server.url, 'alice');
    // A token check that never ends: the socket is upgraded but never opens on its document.
    vi.spyOn(server.parley.tokens, 'verifyAccess').mockReturnValue(new Promise(() => undefined));
    const raw = rawSocket(server, 'inbox/alice', alice.accessToken);
    await waitFor(() => raw.closeCode !== null, 'the server dropping the socket', 10_000);
    expect(raw.types).toEqual([]);
  });

  it('does not limit a request body that takes longer than the handshake timeout', async () => {
    const server = await startServer({ env: { PARLEY_HANDSHAKE_TIMEOUT_MS: '300' } });
    await signUp(server.url, 'alice');
    const body = JSON.stringify({ user: 'alice', password: 'correct horse', device: 'd' });
    const half = Math.floor(body.length / 2);
    const request = tcp(
      server,
      `POST /api/v1/auth/signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
    );
    let answer = '';
    request.socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    // A silent connection opened alongside: once the server has dropped it, the timeout has passed.
    const witness = tcp(server);
    await waitFor(() => witness.closed(), 'the handshake timeout to pass', 10_000);
    expect(request.closed()).toBe(false);
    request.socket.write(body.slice(half));
    await waitFor(() => request.closed(), 'the answer', 10_000);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('caps per user', () => {
  it('refuses a document over the per-user cap with too-many-docs and 4429, before any sync frame', async () => {
    const server = await startServer({ env: { PARLEY_MAX_DOCS_PER_USER: '2' } });
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const inbox = openDoc(server, 'inbox/alice', alice.accessToken);
    const prefs = openDoc(server, 'prefs/alice', alice.accessToken);
    await synced(inbox);
    await synced(prefs);
    const third = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    await waitFor(() => third.closeCode !== null, 'close');
    expect(third.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['too-many-docs']);
    expect(third.closeCode).toBe(CLOSE_CODES.tooMany);
    expect(third.syncFrames).toBe(0);
    third.destroy();

    // Another socket on a document already open is no new document; another user has caps of their own.
    const secondTab = openDoc(server, 'inbox/alice', alice.accessToken);
    await synced(secondTab);
    const bobs = openDoc(server, conversationPath('alice', 'bob', thisSegment()), bob.accessToken);
    await synced(bobs);

    // A document closed frees its place.
    expect(server.parley.hub.heldBy('alice')).toEqual({ sockets: 3, docs: 2 });
    prefs.destroy();
    await waitFor(() => server.parley.hub.heldBy('alice').docs === 1, 'prefs detached');
    const retry = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    await synced(retry);
  });

  it('refuses a socket over the per-user cap with too-many-sockets and 4429, and frees the place on close', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKETS_PER_USER: '3' } });
    const alice = await signUp(server.url, 'alice');
    const tabs = [0, 1, 2].map(() => rawSocket(server, 'inbox/alice', alice.accessToken));
    for (const tab of tabs) await openOnDoc(tab);
    const fourth = rawSocket(server, 'prefs/alice', alice.accessToken);
    await waitFor(() => fourth.closeCode !== null, 'close');
    expect(fourth.frames.map((f) => f.type === 'refused' && f.code)).toEqual(['too-many-sockets']);
    expect(fourth.closeCode).toBe(CLOSE_CODES.tooMany);
    expect(fourth.types.filter((t) => t === MESSAGE_SYNC)).toEqual([]);

    expect(server.parley.hub.heldBy('alice')).toEqual({ sockets: 3, docs: 1 });
    tabs[0]?.ws.close();
    await waitFor(() => server.parley.hub.heldBy('alice').sockets === 2, 'the tab detached');
    const fifth = rawSocket(server, 'prefs/alice', alice.accessToken);
    await openOnDoc(fifth);
    expect(fifth.closeCode).toBeNull();
  });

  it('counts sockets that are still opening, so a burst cannot slip past the cap', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKETS_PER_USER: '5' } });
    const alice = await signUp(server.url, 'alice');
    // Conversations are opened only with users that exist.
    const peers = Array.from({ length: 20 }, (_, i) => ({ id: `peer${i}` }));
    expect((await api(server.url, 'POST', '/admin/accounts', { accounts: peers }, server.config.adminKey)).status).toBe(200);
    // Conversation documents load only once every socket of the burst has either asked for its document or been refused.
    const registry = server.parley.hub.registry;
    const acquire = registry.acquire.bind(registry);
    const gated: (() => void)[] = [];
    let asked = 0;
    vi.spyOn(registry, 'acquire').mockImplementation(async (path: string) => {
      if (!path.startsWith('c2c/')) return acquire(path);
      asked++;
      await new Promise<void>((resolve) => gated.push(resolve));
      return acquire(path);
    });
    const burst = Array.from({ length: 20 }, (_, i) => rawSocket(server, conversationPath('alice', `peer${i}`, thisSegment()), alice.accessToken));
    const refused = () => burst.filter((s) => s.frames.some((f) => f.type === 'refused' && f.code === 'too-many-sockets')).length;
    await waitFor(() => asked + refused() === 20, 'every socket of the burst asking for its document or refused');
    for (const open of gated.splice(0)) open();
    await waitFor(() => burst.every((s) => s.closeCode !== null || s.types.includes(MESSAGE_SYNC)), 'every socket opened or refused');
    expect(burst.filter((s) => s.types.includes(MESSAGE_SYNC))).toHaveLength(5);
    expect(refused()).toBe(15);
    expect(server.parley.hub.heldBy('alice')).toEqual({ sockets: 5, docs: 5 });
  });
});

describe('malformed frames', () => {
  /** A pino destination that keeps every line. */
  function captureLog(): { lines: () => Record<string, unknown>[]; stream: Writable } {
    const text: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text.push(chunk.toString());
        done();
      },
    });
    const lines = () =>
      text
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { lines, stream };
  }

  const garbage = [
    new Uint8Array([MESSAGE_SYNC]), // a sync frame with no sub-type
    new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a type that never ends
    new Uint8Array([7, 1, 2, 3]), // a type no client sends
    new Uint8Array([MESSAGE_AWARENESS, 50, 1]), // an awareness payload shorter than it says
  ];

  it('closes the socket with 1002 after PARLEY_MAX_MALFORMED_FRAMES and logs it once, without a stack', async () => {
    const log = captureLog();
    const server = await startServer({ env: { PARLEY_MAX_MALFORMED_FRAMES: '5', PARLEY_LOG_LEVEL: 'debug' }, logTo: log.stream });
    const alice = await signUp(server.url, 'alice');
    const raw = rawSocket(server, 'inbox/alice', alice.accessToken);
    await openOnDoc(raw);
    for (let i = 0; i < 4; i++) raw.ws.send(garbage[i % garbage.length] ?? new Uint8Array());
    // Still open after four: a query is answered.
    const answered = raw.types.filter((t) => t === MESSAGE_AWARENESS).length;
    raw.ws.send(new Uint8Array([MESSAGE_QUERY_AWARENESS]));
    await waitFor(() => raw.types.filter((t) => t === MESSAGE_AWARENESS).length > answered, 'the answer to a query after four bad frames');
    expect(raw.closeCode).toBeNull();
    // The fifth closes it; those after are never read.
    for (let i = 0; i < 20; i++) raw.ws.send(garbage[i % garbage.length] ?? new Uint8Array());
    await waitFor(() => raw.closeCode !== null, 'close');
    expect(raw.closeCode).toBe(CLOSE_MALFORMED);

    const malformed = log.lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('malformed frame'));
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ level: 40, doc: 'inbox/alice', user: 'alice' });
    expect(JSON.stringify(malformed[0])).not.toContain('stack');
  });

  it('does not count the frames of an honest client', async () => {
    const server = await startServer({ env: { PARLEY_MAX_MALFORMED_FRAMES: '1' } });
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const client = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    await synced(client);
    client.provider.awareness.setLocalStateField('typing', 'bob');
    const sent = Array.from({ length: 20 }, (_, i) => message('alice', 'bob', `hello ${i}`));
    for (const m of sent) send(client, m);
    await waitFor(() => sent.every((m) => acks(client).includes(m.id)), 'every message acknowledged');
    client.provider.awareness.setLocalStateField('typing', null);
    expect(client.closeCode).toBeNull();
    expect(client.provider.wsconnected).toBe(true);
  });
});

describe('unsent bytes per socket (PARLEY_MAX_SOCKET_BUFFER_BYTES)', () => {
  it('defaults to 16 MiB and refuses a value below 64 KiB', () => {
    expect(loadConfig({ PARLEY_DATA_DIR: tempDir() }).maxSocketBufferBytes).toBe(16 * 1024 * 1024);
    expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_MAX_SOCKET_BUFFER_BYTES: '1000' })).toThrow(/PARLEY_MAX_SOCKET_BUFFER_BYTES/);
  });

  it('sends a sync step 2 larger than the cap, and keeps the socket open', async () => {
    const server = await startServer({ env: { PARLEY_MAX_SOCKET_BUFFER_BYTES: String(64 * 1024) } });
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const writer = openDoc(server, path, alice.accessToken);
    await synced(writer);
    // About 200 KB: three times the cap.
    const sent = Array.from({ length: 20 }, (_, i) => message('alice', 'bob', `${i}`.padEnd(10_000, '.')));
    writer.doc.transact(() => {
      for (const m of sent) send(writer, m);
    });
    await waitFor(() => acks(writer).length === sent.length, 'acks');

    const reader = openDoc(server, path, bob.accessToken);
    await synced(reader);
    expect(reader.doc.getMap('messages').size).toBe(sent.length);
    expect(reader.closeCode).toBeNull();
    expect(reader.provider.wsconnected).toBe(true);
  });
});
