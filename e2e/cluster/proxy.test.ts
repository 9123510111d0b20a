/**
 * The shipped deploy/haproxy.cfg in front of two independent Parley servers
 * (each its own SQLite data dir), through the harness of proxy.ts: HTTP and
 * WebSocket upgrades pass; a server that stops is taken out by the health
 * check and requests still succeed; a server that drains (SIGTERM's first
 * step) is taken out before it closes its sockets. Checks run every 100 ms
 * here (PARLEY_CHECK_INTER) so that each wait is short.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { API_PREFIX, CLOSE_CODES, CLOSE_SERVICE_RESTART, conversationPath, MESSAGE_CONTROL, segmentOf, type Session } from '@parley/protocol';
import { loadConfig, startParley, type Parley } from '@parley/sync-server';
import { Proxy } from './proxy.ts';

/** A test's time limit: each starts servers in a second or two, several times that on a loaded machine. */
const SLOW_MACHINE_MS = 60_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A single-node Parley server in this process, on port 0 with a fresh data dir. */
async function parley(env: Record<string, string> = {}): Promise<Parley> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-proxy-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent', PARLEY_STATIC_DIR: '', PARLEY_TRUST_PROXY: '1', ...env });
  const server = await startParley({ ...config, staticDir: null });
  cleanups.push(() => server.close());
  return server;
}

async function proxyFor(...servers: Parley[]): Promise<Proxy> {
  const proxy = await Proxy.start(
    servers.map((s) => s.url),
    { checkInterval: '100ms' },
  );
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function get(url: string, route: string): Promise<number> {
  return (await fetch(`${url}${API_PREFIX}${route}`)).status;
}

async function signUp(url: string, user: string): Promise<Session> {
  const response = await fetch(`${url}${API_PREFIX}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'correct horse', device: 'd' }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Session;
}

/** A y-websocket client on alice's conversation with bob; the code of the first close it sees is kept (its reconnects may fail later). */
function syncClient(wsUrl: string, token: string): { provider: WebsocketProvider; closeCode: () => number | null } {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(wsUrl, conversationPath('alice', 'bob', segmentOf(Date.now())), doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
  });
  // Parley's control frames (limits, acks): stock y-websocket does not know the type and would log each.
  provider.messageHandlers[MESSAGE_CONTROL] = () => undefined;
  let code: number | null = null;
  provider.on('connection-close', (event: CloseEvent | null) => {
    if (event !== null) code ??= event.code;
  });
  cleanups.push(() => {
    provider.destroy();
    doc.destroy();
  });
  return { provider, closeCode: () => code };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Opens a raw WebSocket and resolves with the code it was closed with (the server's answer to a socket without a token). */
function closeCodeOfUpgrade(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('close', (code) => resolve(code));
  });
}

it('passes HTTP and WebSocket upgrades to the servers, and after a server stops the health check takes it out and requests still succeed', async () => {
  const [a, b] = [await parley(), await parley()];
  const proxy = await proxyFor(a, b);

  for (let i = 0; i < 4; i++) expect(await get(proxy.url, '/health')).toBe(200);
  // An upgrade passes through and back: the server's refusal of a socket with no token (4401) reaches the client.
  expect(await closeCodeOfUpgrade(`${proxy.wsUrl}/${conversationPath('alice', 'bob', segmentOf(Date.now()))}`)).toBe(CLOSE_CODES.unauthorized);

  await b.close();
  await proxy.waitForServers({ p1: 'UP', p2: 'DOWN' }, 5000);
  for (let i = 0; i < 6; i++) expect(await get(proxy.url, '/ready')).toBe(200);
  // Everything goes to the server that is left: an account made through the proxy syncs through it.
  await signUp(proxy.url, 'bob');
  const alice = await signUp(proxy.url, 'alice');
  const client = syncClient(proxy.wsUrl, alice.accessToken);
  await until(() => client.provider.synced, 'a sync through the proxy');
}, SLOW_MACHINE_MS);

it('takes a draining server out of rotation before it closes its sockets, which then close with 1012', async () => {
  const a = await parley();
  // Long enough for two failed checks 100 ms apart on a loaded machine.
  const b = await parley({ PARLEY_DRAIN_MS: '2000' });
  const proxy = await proxyFor(a, b);
  await signUp(b.url, 'bob');
  const alice = await signUp(b.url, 'alice');
  const client = syncClient(`${b.url.replace('http', 'ws')}/sync`, alice.accessToken);
  await until(() => client.provider.synced, 'a sync with b');

  const stopped = b.stop();
  await proxy.waitForServers({ p1: 'UP', p2: 'DOWN' }, 5000);
  // The proxy has stopped sending to b while b still holds its socket.
  expect(client.closeCode()).toBeNull();
  expect(client.provider.wsconnected).toBe(true);
  for (let i = 0; i < 4; i++) expect(await get(proxy.url, '/ready')).toBe(200);

  await stopped;
  await until(() => client.closeCode() !== null, 'the socket to close');
  expect(client.closeCode()).toBe(CLOSE_SERVICE_RESTART);
}, SLOW_MACHINE_MS);

it('starts on another port when the one it picked is taken meanwhile', async () => {
  const a = await parley();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const taken = (holder.address() as { port: number }).port;
  const picked: number[] = [];
  const proxy = await Proxy.start([a.url], {
    checkInterval: '100ms',
    // The first pick is the taken port; later ones, free ports the system gives out.
    pickPort: async () => {
      const port = picked.length === 0 ? taken : await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as { port: number };
          probe.close(() => resolve(free));
        });
      });
      picked.push(port);
      return port;
    },
  });
  cleanups.push(() => proxy.stop());
  expect(picked[0]).toBe(taken);
  expect(proxy.port).not.toBe(taken);
  expect(await get(proxy.url, '/health')).toBe(200);
}, SLOW_MACHINE_MS);
