/**
 * An ack promises durability: kill the server process with SIGKILL right after
 * the acks arrive, start it again on the same data dir, and every acked
 * message must be there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { acks, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor, type TestServer } from './helpers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  await cleanup();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `main.ts` as its own process; resolves with its url once it prints the listening line. */
function startProcess(dataDir: string): Promise<{ child: ChildProcess; server: TestServer }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
    cwd: REPO,
    env: { ...process.env, PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'warn', PARLEY_STATIC_DIR: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'listening' && event.url !== undefined) {
          const url = event.url;
          resolve({ child, server: { url, wsUrl: `${url.replace('http', 'ws')}/sync`, dataDir } as TestServer });
        }
      } catch {
        // not our line
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

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
