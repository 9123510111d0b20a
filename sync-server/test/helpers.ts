/** Helpers of the integration tests: a real server on port 0, real y-websocket clients. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
  API_PREFIX,
  MESSAGE_CONTROL,
  MESSAGE_SYNC,
  parseControlFrame,
  segmentOf,
  type ControlFrame,
  type Message,
  type Session,
} from '@parley/protocol';
import { loadConfig, startParley, type Config, type Parley } from '../src/index.ts';
import type { LogDestination } from '../src/log.ts';
import { SqliteStorage } from '../src/storage/sqlite.ts';

export interface TestServer {
  parley: Parley;
  config: Config;
  dataDir: string;
  url: string;
  wsUrl: string;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs and forgets every cleanup registered by the helpers (call in afterEach). */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function startServer(
  options: { dataDir?: string; unloadAfterMs?: number; staticDir?: string; env?: Record<string, string>; logTo?: LogDestination } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    PARLEY_PORT: '0',
    PARLEY_HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'silent',
    PARLEY_UNLOAD_AFTER_MS: String(options.unloadAfterMs ?? 30_000),
    PARLEY_STATIC_DIR: options.staticDir ?? '',
    // Tests sign up many users from 127.0.0.1 on one server (the permission matrix, dozens): more than a real address would.
    PARLEY_SIGNUPS_PER_ADDRESS: '1000',
    // Tests send as fast as the machine goes (220 messages in a loop to make a log compact), faster than any
    // person: the per-user message rate stays out of their way; update-budget.test.ts sets its own.
    PARLEY_MESSAGE_RATE: '100000',
    PARLEY_MESSAGE_BURST: '100000',
    ...options.env,
  });
  const used = options.staticDir === undefined ? { ...config, staticDir: null } : config;
  const parley = await startParley(used, options.logTo === undefined ? {} : { logTo: options.logTo });
  cleanups.push(() => parley.close());
  return { parley, config: used, dataDir, url: parley.url, wsUrl: `${parley.url.replace('http', 'ws')}/sync` };
}

export async function api<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}${API_PREFIX}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  // A 204 has no body.
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export async function signUp(url: string, user: string, device = 'test-device'): Promise<Session> {
  const { status, body } = await api<Session>(url, 'POST', '/auth/signup', { user, password: 'correct horse', device });
  if (status !== 201) throw new Error(`sign-up of ${user} failed: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** The session id (`sid`) an access token carries. */
export function sessionIdOf(session: Pick<Session, 'accessToken'>): string {
  const { sid } = decodeJwt(session.accessToken);
  if (typeof sid !== 'string') throw new Error('the access token names no session');
  return sid;
}

export interface Client {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Control frames received, in order. */
  frames: ControlFrame[];
  /** Sync frames received (the server must send none before auth succeeds). */
  syncFrames: number;
  closeCode: number | null;
  /** Called for each control frame as it arrives (before `frames` is read by waitFor). */
  onFrame?: (frame: ControlFrame) => void;
  destroy(): void;
}

/** Opens a y-websocket client for a document path with a token. */
export function openDoc(server: TestServer, path: string, token: string | undefined, doc = new Y.Doc()): Client {
  const provider = new WebsocketProvider(server.wsUrl, path, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: token === undefined ? {} : { token },
    disableBc: true,
  });
  let destroyed = false;
  const client: Client = {
    doc,
    provider,
    frames: [],
    syncFrames: 0,
    closeCode: null,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        provider.destroy();
      } catch {
        // A doc whose client id Yjs changed (a test forcing a stolen id) trips the provider's own cleanup.
      }
      provider.awareness.destroy();
      doc.destroy();
    },
  };
  const syncHandler = provider.messageHandlers[MESSAGE_SYNC];
  provider.messageHandlers[MESSAGE_SYNC] = (encoder, decoder, p, emitSynced, type) => {
    client.syncFrames++;
    syncHandler?.(encoder, decoder, p, emitSynced, type);
  };
  provider.messageHandlers[MESSAGE_CONTROL] = (_encoder, decoder) => {
    const frame = parseControlFrame(decoding.readVarString(decoder));
    if (frame === null) return;
    client.frames.push(frame);
    client.onFrame?.(frame);
  };
  // Typed by hand: CloseEvent is a DOM type, and this package compiles without the DOM lib.
  provider.on('connection-close', (event: { code: number } | null) => {
    if (event !== null) client.closeCode = event.code;
  });
  cleanups.push(() => client.destroy());
  return client;
}

/** Polls until `condition` holds; fails with `what` after `timeout` ms. */
export async function waitFor(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function synced(client: Client): Promise<void> {
  await waitFor(() => client.provider.synced, 'sync');
}

/** A client of `path`, once synced. */
export async function connected(server: TestServer, path: string, token: string): Promise<Client> {
  const client = openDoc(server, path, token);
  await synced(client);
  return client;
}

/** Every file under `dir`, as one latin1 string (bytes kept one to one): what the server's files hold, for erasure checks. */
export function allBytes(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    out += statSync(file).isDirectory() ? allBytes(file) : readFileSync(file).toString('latin1');
  }
  return out;
}

let counter = 0;
export function message(from: string, to: string, text: string, overrides: Partial<Message> = {}): Message {
  counter++;
  return {
    id: `m${Date.now().toString(36)}${counter}`,
    from,
    to,
    type: 'text',
    body: [{ type: 'text', text }],
    ts: Date.now(),
    profile: { nickname: from },
    ...overrides,
  };
}

export const thisSegment = (): string => segmentOf(Date.now());

export function send(client: Client, msg: Message): void {
  client.doc.getMap('messages').set(msg.id, msg);
}

export const acks = (client: Client): string[] => client.frames.flatMap((f) => (f.type === 'ack' ? f.msgIds : []));
export const rejects = (client: Client): Extract<ControlFrame, { type: 'reject' }>[] =>
  client.frames.filter((f): f is Extract<ControlFrame, { type: 'reject' }> => f.type === 'reject');

/** The document as the server stored it (read from the data dir; the server should be closed). */
export async function storedDoc(dataDir: string, path: string): Promise<Y.Doc> {
  const storage = new SqliteStorage(join(dataDir, 'parley.db'));
  try {
    const stored = await storage.loadDoc(path);
    const doc = new Y.Doc();
    if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot);
    for (const u of stored.updates) Y.applyUpdate(doc, u.data);
    return doc;
  } finally {
    await storage.close();
  }
}
