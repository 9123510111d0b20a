/**
 * `npm start` runs the server compiled to JavaScript (`npm run build:server`:
 * protocol/dist and sync-server/dist), with no tsx: it starts, answers, and
 * its storage worker thread (a plain .mjs entry loading the compiled worker)
 * commits writes. Built here first, so the test checks today's sources; tsc
 * builds incrementally, so a build with nothing changed takes seconds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor } from './helpers.ts';
import { killProcesses, REPO, startProcess, stopProcess } from './process.ts';

// A full build is some 20 s of CPU, an unchanged one some 7; on a loaded machine each takes several times that.
beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build:server'], { cwd: REPO });
}, 600_000);

afterEach(async () => {
  await cleanup();
  killProcesses();
});

it('the compiled server answers /api/v1/health and its storage worker commits writes', async () => {
  const compiled = await startProcess(tempDir(), { compiled: true });
  expect(compiled.child.spawnargs).not.toContain('tsx');
  const { url } = compiled.server;

  expect(await api(url, 'GET', '/health')).toEqual({ status: 200, body: { ok: true } });
  // The password policy's word list is a file beside the compiled code, copied by the build.
  expect((await api(url, 'POST', '/auth/signup', { user: 'carol', password: 'password123', device: 'd' })).body).toMatchObject({ error: { code: 'password-too-weak' } });

  const alice = await signUp(url, 'alice');
  await signUp(url, 'bob');
  const client = openDoc(compiled.server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(client);
  send(client, message('alice', 'bob', 'from the compiled server'));
  // An ack is sent only after the group commit in the storage worker is durable.
  await waitFor(() => acks(client).length === 1, 'the ack', 15_000);
  client.destroy();
  await stopProcess(compiled);
  expect(compiled.child.exitCode).toBe(0);
}, 60_000);
