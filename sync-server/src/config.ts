/**
 * The server's configuration, parsed once from the environment at start into a
 * typed object. A bad value stops the start with a message naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** PARLEY_PORT, default 8080; 0 picks a free port (tests). */
  port: number;
  /** PARLEY_HOST, default 0.0.0.0 so that phones on the LAN reach a dev server. */
  host: string;
  /** PARLEY_DATA_DIR, default ./data: the SQLite file and the generated secrets. */
  dataDir: string;
  /** PARLEY_APP_SECRET: signs app tokens; default generated once into <data>/app-secret. */
  appSecret: string;
  /** PARLEY_ADMIN_KEY: authenticates the admin API (`Authorization: Bearer` or `X-Admin-Key`); default generated once into <data>/admin-key. */
  adminKey: string;
  /** Signs access tokens; generated once into <data>/jwt-secret so that restarts keep sessions. */
  jwtSecret: string;
  /** PARLEY_STATIC_DIR: the built PWA; default <repo>/dist when it exists, else none (API only). */
  staticDir: string | null;
  /** PARLEY_UNLOAD_AFTER_MS, default 30000: a document with no connection stays this long in memory, so a quick reconnect skips a reload. */
  unloadAfterMs: number;
  /** PARLEY_ACCESS_TOKEN_TTL, seconds, default 3600: short, so a stolen token is soon useless. */
  accessTokenTtl: number;
  /** PARLEY_LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /**
   * PARLEY_VAPID_SUBJECT, default mailto:admin@parley.invalid: the contact a
   * push service may write to about this server's pushes (the VAPID `sub`).
   * A mailto: or https: URL, never localhost: Apple's push service refuses a
   * token whose subject is localhost. The keys are generated once into
   * <data>/vapid.json (see push/vapid.ts).
   */
  vapidSubject: string;
  /** PARLEY_RECALL_WINDOW_MS, default 120000 (2 minutes): how long after sending a sender may recall a message. */
  recallWindowMs: number;
  /** PARLEY_PUSH_RETRY_MS, default 1000: the first wait before retrying a push the push service put off (429/5xx); it doubles per attempt. */
  pushRetryMs: number;
  /**
   * PARLEY_TRUST_PROXY, default 0: how many reverse proxies stand in front of
   * the server. 0 takes the client address from the TCP connection (an
   * X-Forwarded-For header could be forged by anyone); behind one proxy, 1
   * takes it from the header that proxy appends.
   */
  trustProxy: number;
  /** PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS, default 5: consecutive failed sign-ins of one account from one address before the pair is blocked (a success resets it). */
  signInFailsPerAccountAddress: number;
  /** PARLEY_SIGNIN_BLOCK_SECONDS, default 60: the first such block; each further one within a day doubles, up to an hour. An honest typo streak waits a minute. */
  signInBlockSeconds: number;
  /** PARLEY_SIGNIN_FAILS_PER_ACCOUNT, default 50: failed sign-ins of one account per hour from all addresses, against a guess spread over many addresses. */
  signInFailsPerAccount: number;
  /** PARLEY_SIGNIN_FAILS_PER_ADDRESS, default 100: failed sign-ins from one address per day to all accounts (the limiter's login recipe's figure), against one address sweeping ids. */
  signInFailsPerAddress: number;
  /** PARLEY_SIGNUPS_PER_ADDRESS, default 10: sign-ups from one address per hour; a household or office behind one address signs up a few people, not dozens. */
  signUpsPerAddress: number;
  /** PARLEY_ADMIN_KEY_FAILS_PER_ADDRESS, default 10: wrong admin keys from one address per hour before it is refused for the rest of the hour. */
  adminKeyFailsPerAddress: number;
  /** PARLEY_SOCKET_UPGRADES_PER_USER, default 300: sync socket upgrades of one user per minute, all devices (the app opens one per document, and a few devices catching up after a night offline open a few a second). */
  socketUpgradesPerUser: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export const DEFAULT_VAPID_SUBJECT = 'mailto:admin@parley.invalid';

/** A VAPID subject push services accept: mailto: or https:, and no localhost (Apple answers BadJwtToken). */
function vapidSubject(env: NodeJS.ProcessEnv): string {
  const raw = env.PARLEY_VAPID_SUBJECT;
  if (raw === undefined || raw === '') return DEFAULT_VAPID_SUBJECT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PARLEY_VAPID_SUBJECT must be a mailto: or https: URL, got "${raw}"`);
  }
  if (url.protocol !== 'mailto:' && url.protocol !== 'https:') throw new ConfigError(`PARLEY_VAPID_SUBJECT must be a mailto: or https: URL, got "${raw}"`);
  const host = url.protocol === 'mailto:' ? (url.pathname.split('@').pop() ?? '') : url.hostname;
  if (isLocalHost(host)) {
    throw new ConfigError(
      `PARLEY_VAPID_SUBJECT must not point at localhost ("${raw}"): Apple's push service refuses such a subject; use a mailto: address or https: URL of a real domain`,
    );
  }
  return raw;
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1, however written in a URL. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** A secret kept in a file of the data dir, created on first start. */
function fileSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new ConfigError(`${file} holds a secret shorter than 32 characters`);
    return secret;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const dataDir = resolve(env.PARLEY_DATA_DIR ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  const logLevel = (env.PARLEY_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`PARLEY_LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const appSecret = env.PARLEY_APP_SECRET ?? fileSecret(dataDir, 'app-secret');
  if (appSecret.length < 16) throw new ConfigError('PARLEY_APP_SECRET must be at least 16 characters');
  const adminKey = env.PARLEY_ADMIN_KEY !== undefined && env.PARLEY_ADMIN_KEY !== '' ? env.PARLEY_ADMIN_KEY : fileSecret(dataDir, 'admin-key');
  if (adminKey.length < 16) throw new ConfigError('PARLEY_ADMIN_KEY must be at least 16 characters');
  let staticDir: string | null;
  if (env.PARLEY_STATIC_DIR !== undefined && env.PARLEY_STATIC_DIR !== '') {
    staticDir = resolve(env.PARLEY_STATIC_DIR);
    if (!existsSync(join(staticDir, 'index.html'))) throw new ConfigError(`PARLEY_STATIC_DIR ${staticDir} holds no index.html`);
  } else {
    const dist = join(REPO_ROOT, 'dist');
    staticDir = existsSync(join(dist, 'index.html')) ? dist : null;
  }
  return {
    port: integer(env, 'PARLEY_PORT', 8080, 0, 65535),
    host: env.PARLEY_HOST ?? '0.0.0.0',
    dataDir,
    appSecret,
    jwtSecret: fileSecret(dataDir, 'jwt-secret'),
    adminKey,
    staticDir,
    unloadAfterMs: integer(env, 'PARLEY_UNLOAD_AFTER_MS', 30_000, 0, 24 * 3600_000),
    accessTokenTtl: integer(env, 'PARLEY_ACCESS_TOKEN_TTL', 3600, 1, 30 * 24 * 3600),
    logLevel,
    vapidSubject: vapidSubject(env),
    pushRetryMs: integer(env, 'PARLEY_PUSH_RETRY_MS', 1000, 1, 3600_000),
    recallWindowMs: integer(env, 'PARLEY_RECALL_WINDOW_MS', 2 * 60_000, 0, 30 * 24 * 3600_000),
    trustProxy: integer(env, 'PARLEY_TRUST_PROXY', 0, 0, 16),
    signInFailsPerAccountAddress: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS', 5, 1, 1_000_000),
    signInBlockSeconds: integer(env, 'PARLEY_SIGNIN_BLOCK_SECONDS', 60, 1, 3600),
    signInFailsPerAccount: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ACCOUNT', 50, 1, 1_000_000),
    signInFailsPerAddress: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ADDRESS', 100, 1, 1_000_000),
    signUpsPerAddress: integer(env, 'PARLEY_SIGNUPS_PER_ADDRESS', 10, 1, 1_000_000),
    adminKeyFailsPerAddress: integer(env, 'PARLEY_ADMIN_KEY_FAILS_PER_ADDRESS', 10, 1, 1_000_000),
    socketUpgradesPerUser: integer(env, 'PARLEY_SOCKET_UPGRADES_PER_USER', 300, 1, 1_000_000),
  };
}
