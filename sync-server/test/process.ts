/**
 * A Parley server as its own process (`sync-server/src/main.ts`), for the
 * tests that need a real process: SIGKILL, a full disk, its memory (RSS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestServer } from './helpers.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  server: TestServer;
  /** Every stdout line (JSON log lines) the process has printed so far. */
  lines: string[];
}

const children: ChildProcess[] = [];

/** Kills (SIGKILL) every process started here that is still running (call in afterEach). */
export function killProcesses(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Starts a server process on `dataDir` (port 0, 127.0.0.1); resolves once it
 * prints its listening line, rejects if it exits first (with what it printed).
 * `env` adds to or overrides the environment; `shell`: a shell command run
 * before `exec node …` (e.g. `ulimit -f 4000`); `compiled`: the build that
 * `npm start` runs (sync-server/dist, see `npm run build:server`) instead of
 * the TypeScript under tsx.
 */
export function startProcess(dataDir: string, options: { env?: Record<string, string>; shell?: string; compiled?: boolean } = {}): Promise<ServerProcess> {
  const env = {
    ...process.env,
    PARLEY_PORT: '0',
    PARLEY_HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_STATIC_DIR: '',
    PARLEY_SIGNUPS_PER_ADDRESS: '1000',
    PARLEY_MESSAGE_RATE: '100000',
    PARLEY_MESSAGE_BURST: '100000',
    // No proxy watches these processes: SIGTERM stops them at once (shutdown.test.ts sets a drain).
    PARLEY_DRAIN_MS: '0',
    ...options.env,
  };
  const node = [process.execPath, ...(options.compiled === true ? ['--conditions=parley-compiled', 'sync-server/dist/main.js'] : ['--import', 'tsx', 'sync-server/src/main.ts'])];
  const child =
    options.shell === undefined
      ? spawn(node[0] ?? 'node', node.slice(1), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `${options.shell}; exec "$@"`, 'sh', ...node], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const errors: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const out = createInterface({ input: child.stdout });
    out.on('line', (line) => {
      lines.push(line);
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'listening' && event.url !== undefined) {
          const url = event.url;
          resolve({ child, lines, server: { url, wsUrl: `${url.replace('http', 'ws')}/sync`, dataDir } as TestServer });
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`server exited with ${code ?? signal}: ${[...lines, ...errors].join('\n')}`)));
  });
}

/** Stops a server process: `signal` (SIGTERM, a clean shutdown, by default) and waits for it to exit. */
export async function stopProcess(p: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill(signal);
  await exited;
}

/** The resident memory of a process now, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** What a command-line tool run to its end printed, and how it exited. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the server's command-line tools (`sync-server/src/cli/<name>.ts`,
 * as `npm run <name>` does) to its end, with `args` and `env` added to this
 * process's environment.
 */
export function runTool(name: string, args: readonly string[], env: Record<string, string> = {}): Promise<ToolRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', `sync-server/src/cli/${name}.ts`, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts a server process that is expected to refuse to start; resolves with
 * its exit code and everything it printed. One that starts instead is stopped
 * and fails the test.
 */
export async function startRefused(dataDir: string, options: { env?: Record<string, string> } = {}): Promise<{ code: number | null; output: string }> {
  let started: ServerProcess;
  try {
    started = await startProcess(dataDir, options);
  } catch (error) {
    const output = (error as Error).message;
    const code = /^server exited with (\S+):/.exec(output)?.[1];
    return { code: code === undefined || !/^\d+$/.test(code) ? null : Number(code), output };
  }
  await stopProcess(started);
  throw new Error(`the server started on ${dataDir} (listening at ${started.server.url}) instead of refusing`);
}
