/**
 * HAProxy from Debian's package in front of Parley processes, for the tests:
 * it runs the file an operator installs (deploy/haproxy.cfg), with the
 * backend addresses, the listening port, the check interval and the admin
 * socket given through the environment as that file documents.
 *
 * HAProxy cannot bind port 0, so the harness picks a port that was free a
 * moment ago (bound and closed) and starts again on another if HAProxy finds
 * it taken. It is ready once its admin socket answers and every backend has
 * passed a health check; `waitForServers` waits for a state the checks
 * reached (no fixed sleeps), read from `show stat` on the admin socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Child, REPO_ROOT } from '../server.ts';

export const HAPROXY_CONFIG = path.join(REPO_ROOT, 'deploy/haproxy.cfg');
/** deploy/haproxy.cfg has this many backend slots (PARLEY_1 … PARLEY_6). */
const MAX_BACKENDS = 6;
/** Tries before giving up on finding a free port (another process took the one picked, each time). */
const PORT_TRIES = 5;

/** One backend server as HAProxy sees it: `p1` … in the order the backends were given. */
export interface ServerState {
  name: string;
  /** `UP`, `DOWN`, or on the way: `UP 1/2` (one failed check of the two that take it down), `DOWN 1/2`. */
  status: string;
  /** The last check's result: `L7OK` (readiness 200), `L7STS` (another status, e.g. 503), `L4CON` (connection refused), `INI` (none yet). */
  check: string;
}

export interface ProxyOptions {
  /** How often each backend's readiness is checked (PARLEY_CHECK_INTER, an HAProxy time such as `100ms`); the file's default is 1s. */
  checkInterval?: string;
  /** How long to wait for every backend to pass a check at start. */
  timeoutMs?: number;
  /** Picks the port to try (default: one the system just gave out); a test hands out a taken one to see the retry. */
  pickPort?: () => Promise<number>;
}

export class Proxy {
  private constructor(
    private readonly child: Child,
    private readonly socketPath: string,
    private readonly dir: string,
    /** The port clients connect to, on 127.0.0.1. */
    readonly port: number,
  ) {}

  /** `http://127.0.0.1:<port>`: the API and the app through the proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `ws://127.0.0.1:<port>/sync`: sync sockets through the proxy. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/sync`;
  }

  /** Everything HAProxy printed (its log), for failure reports. */
  get output(): string {
    return this.child.output;
  }

  /**
   * Starts HAProxy in front of `backends` (`http://host:port` URLs, at most
   * six) and resolves once each has passed a health check.
   */
  static async start(backends: readonly string[], options: ProxyOptions = {}): Promise<Proxy> {
    if (backends.length === 0 || backends.length > MAX_BACKENDS) throw new Error(`deploy/haproxy.cfg takes 1 to ${MAX_BACKENDS} backends, not ${backends.length}`);
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-haproxy-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], PARLEY_HAPROXY_SOCKET: path.join(dir, 'admin.sock') };
    if (options.checkInterval !== undefined) env['PARLEY_CHECK_INTER'] = options.checkInterval;
    backends.forEach((url, i) => (env[`PARLEY_${i + 1}`] = new URL(url).host));
    try {
      for (let attempt = 1; ; attempt++) {
        const port = await (options.pickPort ?? freePort)();
        // -db: in the foreground; -dR: no SO_REUSEPORT, so a port another HAProxy (a test running beside) holds is refused, not shared.
        const child = new Child('haproxy', ['-db', '-dR', '-f', HAPROXY_CONFIG], { cwd: REPO_ROOT, env: { ...env, PARLEY_LISTEN: `127.0.0.1:${port}` } });
        const start = await untilStarted(child, path.join(dir, 'admin.sock'));
        if (start.outcome === 'port-taken' && attempt < PORT_TRIES) continue;
        if (start.outcome !== 'started') throw new Error(`haproxy did not start (${start.outcome === 'failed' ? start.why : `port ${port} taken, ${attempt} tries`}):\n${child.output}`);
        const proxy = new Proxy(child, path.join(dir, 'admin.sock'), dir, port);
        const all = Object.fromEntries(backends.map((_, i) => [`p${i + 1}`, 'UP' as const]));
        await proxy.waitForServers(all, options.timeoutMs ?? 10_000).catch(async (error: unknown) => {
          await proxy.stop();
          throw error;
        });
        return proxy;
      }
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The backend servers as the admin socket's `show stat` reports them now. */
  async servers(): Promise<ServerState[]> {
    const csv = await adminCommand(this.socketPath, 'show stat');
    const [header, ...rows] = csv.split('\n').filter((line) => line.trim() !== '');
    const columns = (header ?? '').replace(/^# /, '').split(',');
    const col = (name: string): number => columns.indexOf(name);
    return rows
      .map((row) => row.split(','))
      .filter((cells) => cells[col('pxname')] === 'parley' && !['FRONTEND', 'BACKEND'].includes(cells[col('svname')] ?? ''))
      .map((cells) => ({ name: cells[col('svname')] ?? '', status: cells[col('status')] ?? '', check: cells[col('check_status')] ?? '' }));
  }

  /**
   * Waits until each named server is in the given state, as decided by a
   * health check (`UP` with a passed check, or `DOWN`); fails after
   * `timeoutMs` with the states last seen.
   */
  async waitForServers(expected: Readonly<Record<string, 'UP' | 'DOWN'>>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen: ServerState[] = [];
    for (;;) {
      seen = await this.servers();
      const reached = Object.entries(expected).every(([name, want]) => {
        const server = seen.find((s) => s.name === name);
        return server !== undefined && server.status === want && (want === 'DOWN' || server.check === 'L7OK');
      });
      if (reached) return;
      if (Date.now() > deadline) throw new Error(`haproxy's servers did not reach ${JSON.stringify(expected)} within ${timeoutMs} ms: ${JSON.stringify(seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops HAProxy (SIGTERM: its connections are cut) and removes its directory. */
  async stop(): Promise<void> {
    await this.child.stop(5000);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, read, closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

type Start = { outcome: 'started' } | { outcome: 'port-taken' } | { outcome: 'failed'; why: string };

/**
 * Waits until HAProxy answers on its admin socket (it bound its port), or
 * exits: `port-taken` when it could not bind the port.
 */
async function untilStarted(child: Child, socketPath: string): Promise<Start> {
  let exit: string | null = null;
  // 'close', not 'exit': its output is read to the end by then.
  child.process.once('close', (code, signal) => (exit = `exit ${code ?? signal}`));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exit !== null) return /Address already in use/.test(child.output) ? { outcome: 'port-taken' } : { outcome: 'failed', why: exit };
    if (await adminCommand(socketPath, 'show info').then(() => true, () => false)) return { outcome: 'started' };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await child.stop(1000);
  return { outcome: 'failed', why: 'no answer on the admin socket within 10 s' };
}

/** One command on HAProxy's admin socket; resolves with its whole answer. */
function adminCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
  });
}
