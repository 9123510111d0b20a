/**
 * Starts each server under test in its own child process, so that CPU and RSS
 * (read from /proc) belong to that server alone. Every server prints one JSON
 * line `{"event":"listening","port":N}` on stdout when it accepts connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVERS_DIR = fileURLToPath(new URL('./', import.meta.url));

export type ServerKind = 'parley' | 'yws' | 'hocuspocus';
export const SERVER_KINDS: readonly ServerKind[] = ['parley', 'yws', 'hocuspocus'];
export const SERVER_LABELS: Record<ServerKind, string> = {
  parley: 'Parley',
  yws: '@y/websocket-server 0.1.1 (bare)',
  hocuspocus: 'Hocuspocus 3.4 + SQLite',
};

export interface RunningServer {
  kind: ServerKind;
  child: ChildProcess;
  pid: number;
  port: number;
  /** Date.now() just before the process was spawned (a profile's time origin, give or take its start-up). */
  spawnedAt: number;
  dataDir: string;
  /** ws://127.0.0.1:port/sync — documents are `${wsBase}/${path}`. */
  wsBase: string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, resolves once the process is gone. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child still running when the harness exits, however it exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function freshDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `parley-bench-${prefix}-`));
}

export interface LaunchOptions {
  dataDir?: string;
  /** A directory for `node --cpu-prof` output (Parley only). */
  cpuProfDir?: string;
  /** Another checkout of Parley to run instead of this one (the A/B comparison, ab.ts). */
  repoRoot?: string;
  /** More environment for the server (e.g. a limit a workload legitimately exceeds). */
  env?: Record<string, string>;
  /**
   * Parley's build (sync-server/dist, `npm run build:server`), as `npm start`
   * runs it, instead of its TypeScript under tsx. By default the build when
   * the checkout has one (the bench's npm scripts build this checkout's first;
   * a checkout from before the build existed runs under tsx, as its `npm
   * start` did).
   */
  compiled?: boolean;
  /** Every JSON line the server prints, from its first (a cluster process logs its node id before it listens). */
  onEvent?: (event: Record<string, unknown>) => void;
}

const BUILT_ENTRY = 'sync-server/dist/main.js';

/** Whether a checkout of Parley has its server built (`npm run build:server`). */
export function isBuilt(root: string): boolean {
  return existsSync(join(root, BUILT_ENTRY));
}

export async function launchServer(kind: ServerKind, options: LaunchOptions = {}): Promise<RunningServer> {
  installExitHook();
  const dataDir = options.dataDir ?? freshDataDir(kind);
  const root = options.repoRoot ?? REPO_ROOT;
  const compiled = kind === 'parley' && (options.compiled ?? isBuilt(root));
  const nodeArgs = compiled ? ['--conditions=parley-compiled'] : ['--import', 'tsx'];
  if (options.cpuProfDir !== undefined) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir);
  let entry: string;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (kind === 'parley') {
    entry = join(root, compiled ? BUILT_ENTRY : 'sync-server/src/main.ts');
    // PARLEY_DRAIN_MS 0: no proxy watches a bench server, so SIGTERM closes it at once.
    Object.assign(env, { PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'warn', NODE_ENV: 'production', PARLEY_DRAIN_MS: '0' });
    // A load generator's user sends faster than any person (W1 at 30,000/s over 2,000 users is 15 a second each):
    // the per-user message rate (PARLEY_MESSAGE_RATE, default 5/s) would measure the limiter, not the accept path.
    Object.assign(env, { PARLEY_MESSAGE_RATE: '100000', PARLEY_MESSAGE_BURST: '100000', ...options.env });
  } else {
    entry = join(SERVERS_DIR, kind === 'yws' ? 'ywebsocket.ts' : 'hocuspocus.ts');
    // The peers check the same access tokens (Hocuspocus) with a key the harness keeps beside their data.
    writeFileSync(join(dataDir, 'jwt-secret'), `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    Object.assign(env, { BENCH_DATA_DIR: dataDir, NODE_ENV: 'production' });
  }
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 30 s`)), 30_000);
    lines.on('line', (line) => {
      let event: { event?: unknown; port?: unknown } | undefined;
      try {
        event = JSON.parse(line) as { event?: unknown; port?: unknown };
      } catch {
        return; // not our line
      }
      options.onEvent?.(event);
      if (event.event === 'listening' && typeof event.port === 'number') {
        clearTimeout(timer);
        resolve(event.port);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited before listening (${code ?? signal})`));
    });
  });

  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    kind,
    child,
    pid: child.pid!,
    port,
    spawnedAt,
    dataDir,
    wsBase: `ws://127.0.0.1:${port}/sync`,
    async stop(graceMs = 20_000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
  };
}
