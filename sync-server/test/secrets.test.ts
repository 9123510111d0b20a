/**
 * The secrets a first start generates (jwt-secret, app-secret, admin-key,
 * vapid.json) must survive a power cut a second later. A killed process
 * keeps the page cache, so the test watches the write protocol itself under
 * strace: each file must be written to a temporary file, fsynced, renamed
 * into place and its directory fsynced, in that order. A file found empty or
 * malformed at start must stop the server with a message that says what to
 * do, not a stack trace.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/config/values.ts';
import { cleanup, startServer, tempDir } from './helpers.ts';
import { killProcesses, startProcess, startRefused, type ServerProcess } from './process.ts';
import { missingDurableWrite, readTrace, TRACED } from './strace.ts';

afterEach(async () => {
  await cleanup();
  killProcesses();
});

const SECRETS = ['jwt-secret', 'app-secret', 'admin-key', 'vapid.json'];

/** The node process strace runs (its only child). */
function tracee(p: ServerProcess): number {
  const pid = p.child.pid ?? 0;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(1);
  return children[0] ?? 0;
}

it('writes each generated secret to a temporary file, fsyncs it, renames it into place and fsyncs the directory', async () => {
  const dataDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await startProcess(dataDir, { shell: `set -- strace -f -qq -y -o '${trace}' -e trace=${TRACED} "$@"` });
  const node = tracee(p);
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  process.kill(node, 'SIGTERM');
  await exited;

  const calls = readTrace(trace);
  expect(calls.length).toBeGreaterThan(0);
  const missing = SECRETS.map((file) => missingDurableWrite(calls, dataDir, file)).filter((m) => m !== null);
  expect(missing).toEqual([]);
  // Nothing temporary is left behind.
  expect(readdirSync(dataDir).filter((name) => name.includes('.tmp'))).toEqual([]);
});

/** A data dir after a first start and a clean stop. */
async function startedOnce(): Promise<string> {
  const first = await startServer({ env: { PARLEY_APP_SECRET: '', PARLEY_ADMIN_KEY: '' } });
  await first.parley.close();
  return first.dataDir;
}

it('refuses to start on an empty vapid.json with a message that says what to do, not a stack trace', async () => {
  const dataDir = await startedOnce();
  // What a power cut after a write without fsync leaves.
  writeFileSync(join(dataDir, 'vapid.json'), '');

  const { code, output } = await startRefused(dataDir);
  expect(code).toBe(2);
  expect(output).toContain(`${join(dataDir, 'vapid.json')} is empty`);
  // It says what to do: restore the file from a backup.
  expect(output).toContain('npm run restore');
  expect(output).not.toMatch(/\n\s+at /);
});

it.each(['jwt-secret', 'app-secret', 'admin-key'])('refuses to start on an empty %s with a message that says what to do', async (file) => {
  const dataDir = await startedOnce();
  writeFileSync(join(dataDir, file), '');
  expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir })).toThrow(`${join(dataDir, file)} is empty`);
  expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir })).toThrow('npm run restore');
});

it('refuses to start on a malformed vapid.json with a message that says what to do', async () => {
  const dataDir = await startedOnce();
  writeFileSync(join(dataDir, 'vapid.json'), '{"publicKey": "half a ke');
  const start = startServer({ dataDir });
  await expect(start).rejects.toThrow(ConfigError);
  await expect(start).rejects.toThrow(`${join(dataDir, 'vapid.json')} holds no VAPID key pair`);
  await expect(start).rejects.toThrow('npm run restore');
});

it('generates no secret on a first start refused for a bad setting, so the corrected start is not taken for a lost database', () => {
  const dataDir = tempDir();
  expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_MAX_FRAME_BYTES: String(1024 * 1024), PARLEY_MAX_UPDATE_BYTES: String(1024 * 1024) })).toThrow(ConfigError);
  expect(() => loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PORT: 'eighty' })).toThrow(ConfigError);
  expect(readdirSync(dataDir)).toEqual([]);
  expect(loadConfig({ PARLEY_DATA_DIR: dataDir }).jwtSecret.length).toBeGreaterThanOrEqual(32);
});
