/**
 * A graceful stop of a real server process (main.ts): on SIGTERM readiness
 * turns 503 `draining` while the process still serves its sockets (for
 * PARLEY_DRAIN_MS, so a proxy's health check takes it out of rotation), then
 * every sync socket is closed with 1012 (service restart: the client
 * reconnects at once) and the process exits 0. A second signal skips the rest
 * of the wait.
 */
import { afterEach, expect, it } from 'vitest';
import { CLOSE_SERVICE_RESTART, conversationPath, type ReadyResult } from '@parley/protocol';
import { ConfigError, loadConfig } from '../src/index.ts';
import { acks, api, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor, type Client } from './helpers.ts';
import { killProcesses, startProcess, type ServerProcess } from './process.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

/** Polls readiness until it answers 503 `draining`; fails after `timeout` ms. */
async function untilDraining(url: string, timeout = 5000): Promise<ReadyResult> {
  const start = Date.now();
  for (;;) {
    const ready = await api<ReadyResult>(url, 'GET', '/ready');
    if (ready.status === 503 && ready.body.reasons.some((r) => r.code === 'draining')) return ready.body;
    if (Date.now() - start > timeout) throw new Error(`readiness did not turn to draining: ${JSON.stringify(ready)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A process with alice signed in and a synced socket on her conversation with
 * bob; `closes` gets the code of each close the client sees (after the
 * server's, its reconnects to the stopped server fail with 1006).
 */
async function serverWithSocket(drainMs: number): Promise<{ p: ServerProcess; client: Client; closes: number[]; exited: Promise<number | null> }> {
  const p = await startProcess(tempDir(), { env: { PARLEY_DRAIN_MS: String(drainMs) } });
  const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
  const alice = await signUp(p.server.url, 'alice');
  await signUp(p.server.url, 'bob');
  const client = openDoc(p.server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(client);
  const closes: number[] = [];
  client.provider.on('connection-close', (event: { code: number } | null) => {
    if (event !== null) closes.push(event.code);
  });
  return { p, client, closes, exited };
}

it('on SIGTERM says draining (503) while it still serves, then closes its sockets with 1012 and exits 0', async () => {
  const { p, client, closes, exited } = await serverWithSocket(1500);
  const signalled = Date.now();
  p.child.kill('SIGTERM');

  const ready = await untilDraining(p.server.url);
  expect(ready.ready).toBe(false);
  expect(ready.reasons).toEqual([{ code: 'draining', since: expect.any(Number) as number, message: expect.stringContaining('shutting down') as string }]);
  expect(ready.reasons[0]?.since).toBeGreaterThanOrEqual(signalled - 1000);
  // The proxy sees it before the socket goes: it is still open, and a message sent on it is still committed and acknowledged.
  expect(closes).toEqual([]);
  expect(client.provider.wsconnected).toBe(true);
  send(client, message('alice', 'bob', 'sent while the server drains'));
  await waitFor(() => acks(client).length === 1, 'the ack of a message sent while draining');
  // Liveness holds: the process is alive and serving.
  expect((await api(p.server.url, 'GET', '/health')).status).toBe(200);

  await waitFor(() => closes.length > 0, 'the socket to close', 10_000);
  expect(closes[0]).toBe(CLOSE_SERVICE_RESTART);
  expect(Date.now() - signalled).toBeGreaterThanOrEqual(1500);
  expect(await exited).toBe(0);
  // A child process under tsx starts in a few seconds, several times that on a loaded machine.
}, 60_000);

it('a second signal cuts the drain short: sockets close with 1012 and the process exits 0 at once', async () => {
  const { p, closes, exited } = await serverWithSocket(60_000);
  p.child.kill('SIGTERM');
  await untilDraining(p.server.url);
  const second = Date.now();
  p.child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(Date.now() - second).toBeLessThan(10_000);
  expect(closes[0]).toBe(CLOSE_SERVICE_RESTART);
}, 60_000);

it('PARLEY_DRAIN_MS defaults to 5000 and refuses a value that is not a whole number of ms from 0 to 10 minutes', () => {
  // A fresh data dir per load: a load generates the secrets, and secrets beside no database are refused.
  expect(loadConfig({ PARLEY_DATA_DIR: tempDir() }).drainMs).toBe(5000);
  expect(loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DRAIN_MS: '0' }).drainMs).toBe(0);
  for (const bad of ['-1', 'soon', '600001']) expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DRAIN_MS: bad }), bad).toThrow(ConfigError);
});
