/**
 * Real Parley servers for the specs: child processes, started the way an
 * operator would, and read back through the one line the server promises on
 * stdout: a JSON log line with `"event":"listening"` and the bound `port`.
 *
 * Each child runs in its own process group, so stopping it also stops whatever
 * it started (npm → sh → vite, tsx → node).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
/** The built app the tests serve; PARLEY_E2E_DIST points elsewhere (a build of your own while others build too). */
export const STATIC_DIR = process.env['PARLEY_E2E_DIST'] ?? path.join(REPO_ROOT, 'dist');

/** A child process whose output is kept (the last lines) for failure reports. */
export class Child {
  readonly process: ChildProcess;
  private readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.process = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
    for (const [stream, tag] of [
      [this.process.stdout, 'out'],
      [this.process.stderr, 'err'],
    ] as const) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(`[${tag}] ${line}`);
        if (this.lines.length > 400) this.lines.shift();
        for (const listener of this.lineListeners) listener(line);
      });
    }
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first output line for which `pick` returns a value. */
  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
      };
      const onLine = (line: string): void => {
        const value = pick(line);
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; output:\n${this.output}`));
      }, timeoutMs);
      this.lineListeners.add(onLine);
      this.exited
        .then((code) => {
          done();
          reject(new Error(`exited (code ${String(code)}) before ${what}; output:\n${this.output}`));
        })
        .catch(() => undefined);
    });
  }

  /**
   * SIGTERM to the whole group, SIGKILL if any of it is still alive after
   * `graceMs`. Resolves once every process of the group is gone (the direct
   * child, e.g. npm, may exit before the server it started has closed its port).
   */
  async stop(graceMs = 10_000): Promise<{ graceful: boolean }> {
    if (!this.groupAlive()) return { graceful: true };
    this.signalGroup('SIGTERM');
    if (await this.groupGone(graceMs)) return { graceful: true };
    this.signalGroup('SIGKILL');
    await this.groupGone(10_000);
    return { graceful: false };
  }

  private groupAlive(): boolean {
    const pid = this.process.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private async groupGone(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.groupAlive()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.exited;
    return true;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }
}

/** The port of the server's `"event":"listening"` JSON log line, if `line` is it. */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const record = JSON.parse(line) as { event?: unknown; port?: unknown };
    return record.event === 'listening' && typeof record.port === 'number' ? record.port : undefined;
  } catch {
    return undefined;
  }
}

export interface ParleyServer {
  /** `http://127.0.0.1:<port>`: a secure context, so the service worker registers. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: Child;
  /** Stops the server (SIGTERM) and deletes its data directory. */
  dispose(): Promise<void>;
}

/** The compiled server that `npm start` runs (`npm run build` makes it; `npm run test:e2e` builds first). */
export const SERVER_ENTRY = path.join(REPO_ROOT, 'sync-server/dist/main.js');

/**
 * Starts the compiled server, as `npm start` does (`node
 * --conditions=parley-compiled sync-server/dist/main.js`), on port 0 with a
 * fresh data directory; `extraEnv` sets more of its PARLEY_* settings. Not
 * through tsx: a test starts at least one server, and compiling the source
 * again each time cost about 1.5 s of CPU per start.
 */
export async function startServer(extraEnv: Readonly<Record<string, string>> = {}): Promise<ParleyServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-e2e-'));
  const env: NodeJS.ProcessEnv = { ...withoutParleyEnv(process.env) };
  env['PARLEY_PORT'] = '0';
  env['PARLEY_DATA_DIR'] = dataDir;
  env['PARLEY_STATIC_DIR'] = STATIC_DIR;
  env['PARLEY_LOG_LEVEL'] = 'warn';
  // Stopped with SIGTERM after each test: no proxy needs the drain (a cluster spec may set one).
  env['PARLEY_DRAIN_MS'] = '0';
  Object.assign(env, extraEnv);
  const child = new Child(process.execPath, ['--conditions=parley-compiled', SERVER_ENTRY], { cwd: REPO_ROOT, env });
  const dispose = async (): Promise<void> => {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await child.waitForLine(listeningPort, 30_000, 'listening line');
    return { url: `http://127.0.0.1:${port}`, port, dataDir, child, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The environment minus PARLEY_* variables, so a developer's shell cannot leak into a test. */
export function withoutParleyEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('PARLEY_')));
}
