/**
 * `npm run backup` while the server runs and takes writes, and
 * `npm run restore` into a new data dir: the restored server holds every
 * message acknowledged before the backup began. Restore refuses while a
 * server runs on the data dir, and refuses a damaged backup.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { acks, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor, type Client } from './helpers.ts';
import { corruptPage, middleLeafPage } from './damage.ts';
import { killProcesses, runTool, startProcess, stopProcess } from './process.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

/** Sends messages one after another, each once the previous one is acked, until `stop` is called. */
function keepSending(client: Client): { stop: () => Promise<number> } {
  let stopped = false;
  let sent = 0;
  const loop = (async () => {
    while (!stopped) {
      send(client, message('alice', 'bob', `busy ${sent}`));
      sent++;
      await waitFor(() => acks(client).length >= sent, `ack ${sent}`, 15_000);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return sent;
    },
  };
}

it('backs up a running server taking writes, and the restore holds every message acked before the backup began', async () => {
  const dataDir = tempDir();
  const server = await startProcess(dataDir);
  const alice = await signUp(server.server.url, 'alice');
  const bob = await signUp(server.server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const a = openDoc(server.server, path, alice.accessToken);
  await synced(a);
  const sending = keepSending(a);
  await waitFor(() => acks(a).length >= 20, 'the first acks');

  const ackedBefore = acks(a);
  const dest = join(tempDir(), 'nightly');
  const backup = await runTool('backup', [dest], { PARLEY_DATA_DIR: dataDir });
  const sent = await sending.stop();
  expect(backup.stderr).toBe('');
  expect(backup.code).toBe(0);
  // The client kept writing while the backup ran.
  expect(sent).toBeGreaterThan(ackedBefore.length);
  for (const name of ['parley.db', 'jwt-secret', 'app-secret', 'admin-key', 'vapid.json']) expect(existsSync(join(dest, name))).toBe(true);

  // Restoring over the running server's data dir is refused.
  const refused = await runTool('restore', [dest], { PARLEY_DATA_DIR: dataDir });
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('in use');
  a.destroy();
  await stopProcess(server);

  const restoredDir = join(tempDir(), 'restored');
  const restore = await runTool('restore', [dest], { PARLEY_DATA_DIR: restoredDir });
  expect(restore.stderr).toBe('');
  expect(restore.code).toBe(0);
  const restored = await startProcess(restoredDir);
  // The secrets came back too: bob's token from before the backup still works.
  const b = openDoc(restored.server, path, bob.accessToken);
  await synced(b);
  const messages = b.doc.getMap('messages');
  const seq = b.doc.getMap<number>('seq');
  const missing = ackedBefore.filter((id) => !messages.has(id) || !((seq.get(id) ?? 0) > 0));
  expect(missing).toEqual([]);
  b.destroy();
  await stopProcess(restored);
  // Five processes one after another (two servers, three tool runs): seconds each on a loaded machine.
}, 90_000);

it('refuses to restore a damaged backup, and leaves the data dir as it was', async () => {
  const dataDir = tempDir();
  const server = await startProcess(dataDir);
  const alice = await signUp(server.server.url, 'alice');
  await signUp(server.server.url, 'bob');
  const a = openDoc(server.server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(a);
  for (let i = 0; i < 100; i++) send(a, message('alice', 'bob', `message ${i} ${randomBytes(500).toString('hex')}`));
  await waitFor(() => acks(a).length === 100, 'acks');
  const dest = join(tempDir(), 'backup');
  expect((await runTool('backup', [dest], { PARLEY_DATA_DIR: dataDir })).code).toBe(0);
  a.destroy();
  await stopProcess(server);

  const file = join(dest, 'parley.db');
  const { page, size } = middleLeafPage(file);
  corruptPage(file, page, size);
  const restore = await runTool('restore', [dest], { PARLEY_DATA_DIR: dataDir });
  expect(restore.code).not.toBe(0);
  expect(restore.stderr).toContain('damaged');
  // The data dir still starts, on its own database.
  const again = await startProcess(dataDir);
  await stopProcess(again);
}, 60_000);
