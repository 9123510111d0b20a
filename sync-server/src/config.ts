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
   * PARLEY_MAX_UPDATE_BYTES, default 4194304 (4 MiB): the most bytes one sync
   * update may hold; a larger one is refused (`update-too-large`) before it is
   * decoded. An honest device's largest update is its sync step 2 after an
   * offline spell: 300 messages of the full 12 KB fit. At most 15 MiB, so the
   * socket's 16 MiB frame limit (http/sockets.ts) stays above it and the
   * refusal reaches the client as a `reject` frame.
   */
  maxUpdateBytes: number;
  /**
   * PARLEY_MAX_UPDATE_STRUCTS, default 10000: the most Yjs structs (plus
   * deletion ranges) one update may hold. Each is a message, reaction, receipt
   * or deletion a device wrote since it last synced that document (one
   * conversation's month), so 10,000 is far above any person's offline spell,
   * and an update this size is validated in tens of milliseconds.
   */
  maxUpdateStructs: number;
  /** PARLEY_MESSAGE_RATE, default 5: new messages, edits, reactions and actions a user may write per second, sustained (sync/write-rate.ts). */
  messageRate: number;
  /** PARLEY_MESSAGE_BURST, default 50: how many of those a user may write at once, above the rate, after a quiet spell. */
  messageBurst: number;
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
    maxUpdateBytes: integer(env, 'PARLEY_MAX_UPDATE_BYTES', 4 * 1024 * 1024, 64 * 1024, 15 * 1024 * 1024),
    maxUpdateStructs: integer(env, 'PARLEY_MAX_UPDATE_STRUCTS', 10_000, 100, 1_000_000),
    messageRate: integer(env, 'PARLEY_MESSAGE_RATE', 5, 1, 100_000),
    messageBurst: integer(env, 'PARLEY_MESSAGE_BURST', 50, 1, 1_000_000),
  };
}
