/**
 * An ack promises durability: kill the server process with SIGKILL right after
 * the acks arrive, start it again on the same data dir, and every acked
 * message must be there.
 */
import { afterEach, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { acks, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor } from './helpers.ts';
import { killProcesses, startProcess } from './process.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

it('keeps every acked message after the process is killed with SIGKILL', async () => {
  const dataDir = tempDir();
  const first = await startProcess(dataDir);
  const alice = await signUp(first.server.url, 'alice');
  const bob = await signUp(first.server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const a = openDoc(first.server, path, alice.accessToken);
  await synced(a);
  const sent = Array.from({ length: 30 }, (_, i) => message('alice', 'bob', `durable ${i}`));
  for (const m of sent) send(a, m);
  await waitFor(() => acks(a).length === sent.length, 'acks');
  first.child.kill('SIGKILL');
  const acked = acks(a);
  a.destroy();
  await new Promise((resolve) => first.child.once('exit', resolve));

  const second = await startProcess(dataDir);
  const b = openDoc(second.server, path, bob.accessToken);
  await synced(b);
  const messages = b.doc.getMap('messages');
  const seq = b.doc.getMap<number>('seq');
  for (const id of acked) {
    expect(messages.has(id)).toBe(true);
    expect(seq.get(id)).toBeGreaterThan(0);
  }
  b.destroy();
  second.child.kill('SIGTERM');
  await new Promise((resolve) => second.child.once('exit', resolve));
});
