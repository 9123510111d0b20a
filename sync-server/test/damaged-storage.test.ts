/**
 * A damaged data dir must not start: a database with a corrupt page would
 * start and fail later for one conversation; a data dir whose database is
 * gone would start with an empty history and accept writes. Each is refused
 * with a message that names the restore command (as a real server process
 * prints it, where the message is the point; in-process otherwise).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { acks, cleanup, message, openDoc, send, signUp, startServer, synced, thisSegment, waitFor } from './helpers.ts';
import { loadConfig } from '../src/config.ts';
import { corruptPage, middleLeafPage } from './damage.ts';
import { killProcesses, startProcess, startRefused, stopProcess } from './process.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

/** A data dir that a server held `count` messages in (of 1 KB of random text each), stopped cleanly: its database spans many pages. */
async function dataDirWithMessages(count: number): Promise<string> {
  const server = await startServer();
  const alice = await signUp(server.url, 'alice');
  await signUp(server.url, 'bob');
  const a = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(a);
  for (let i = 0; i < count; i++) send(a, message('alice', 'bob', `message ${i} ${randomBytes(500).toString('hex')}`));
  await waitFor(() => acks(a).length === count, 'acks');
  a.destroy();
  await server.parley.close();
  return server.dataDir;
}

it('refuses to start on a database with a corrupt page, naming the restore command', async () => {
  const dataDir = await dataDirWithMessages(150);
  const file = join(dataDir, 'parley.db');
  const { page, pages, size } = middleLeafPage(file);
  expect(pages).toBeGreaterThan(20);
  corruptPage(file, page, size);

  const { code, output } = await startRefused(dataDir);
  expect(code).not.toBe(0);
  expect(output).toContain('damaged');
  expect(output).toContain(`PARLEY_DATA_DIR=${dataDir} npm run restore -- `);
  expect(output).not.toMatch(/\n\s+at /);
});

it('checks with integrity_check when PARLEY_STARTUP_CHECK=full, and starts on such a database when it is off', async () => {
  const dataDir = await dataDirWithMessages(150);
  const file = join(dataDir, 'parley.db');
  const { page, size } = middleLeafPage(file);
  corruptPage(file, page, size);
  await expect(startServer({ dataDir, env: { PARLEY_STARTUP_CHECK: 'full' } })).rejects.toThrow(/is damaged \(integrity_check: /);
  expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_STARTUP_CHECK: 'thorough' })).toThrow('PARLEY_STARTUP_CHECK must be one of quick, full, off');
  // What every start did before the check: it starts, and fails later for this conversation.
  const p = await startProcess(dataDir, { env: { PARLEY_STARTUP_CHECK: 'off' } });
  await stopProcess(p);
});

it('refuses to start when the database is gone but the secrets are there', async () => {
  const dataDir = await dataDirWithMessages(3);
  for (const name of ['parley.db', 'parley.db-wal', 'parley.db-shm']) rmSync(join(dataDir, name), { force: true });

  const { code, output } = await startRefused(dataDir);
  expect(code).not.toBe(0);
  expect(output).toContain('parley.db');
  expect(output).toContain('missing');
  expect(output).toContain(`PARLEY_DATA_DIR=${dataDir} npm run restore -- `);
});

it('refuses to start when the database is gone, from a data dir that has no marker (made before it had one)', async () => {
  const dataDir = await dataDirWithMessages(3);
  for (const name of ['parley.db', 'parley.db-wal', 'parley.db-shm', 'data-dir.json']) rmSync(join(dataDir, name), { force: true });
  await expect(startServer({ dataDir })).rejects.toThrow(/parley\.db is missing, but this data dir held data \(jwt-secret, .*npm run restore/);
});

it("refuses to start on another data dir's database", async () => {
  const mine = await dataDirWithMessages(3);
  const theirs = await dataDirWithMessages(3);
  copyFileSync(join(theirs, 'parley.db'), join(mine, 'parley.db'));
  await expect(startServer({ dataDir: mine })).rejects.toThrow(/parley\.db belongs to another data dir .*npm run restore/);
});
