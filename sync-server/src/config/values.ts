/**
 * Reading one setting's value from the environment: an integer in its
 * range, one of a list, a URL of the right kind. A bad value is a
 * ConfigError naming the variable, which stops the start (main.ts: exit 2).
 */
import { DEFAULT_SYNC_LIMITS } from '@parley/protocol';
import type { StartupCheck } from '../storage/data-dir.ts';
import { parsePushAllow, type PushAllowList } from './push-allow.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const DEFAULT_VAPID_SUBJECT = 'mailto:admin@parley.invalid';

/** A VAPID subject push services accept: mailto: or https:, and no localhost (Apple answers BadJwtToken). */
export function vapidSubject(env: NodeJS.ProcessEnv): string {
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

/** PARLEY_DATABASE_URL: a postgres:// (or postgresql://) URL, or null when unset (SQLite in the data dir). */
export function databaseUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = env.PARLEY_DATABASE_URL;
  if (raw === undefined || raw === '') return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // refused below
  }
  if (url === null || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') {
    // Not echoed: the URL may hold a password.
    throw new ConfigError('PARLEY_DATABASE_URL must be a postgres://user[:password]@host[:port]/database URL');
  }
  return raw;
}

const STARTUP_CHECKS: readonly StartupCheck[] = ['quick', 'full', 'off'];

export function startupCheck(env: NodeJS.ProcessEnv): StartupCheck {
  const raw = env.PARLEY_STARTUP_CHECK;
  if (raw === undefined || raw === '') return 'quick';
  if (!(STARTUP_CHECKS as readonly string[]).includes(raw)) throw new ConfigError(`PARLEY_STARTUP_CHECK must be one of ${STARTUP_CHECKS.join(', ')}, got "${raw}"`);
  return raw as StartupCheck;
}

export function pushAllow(env: NodeJS.ProcessEnv): PushAllowList {
  try {
    return parsePushAllow(env.PARLEY_PUSH_ALLOW);
  } catch (error) {
    throw new ConfigError(`PARLEY_PUSH_ALLOW: ${(error as Error).message}`);
  }
}

/** `on` or `off` (also 1/0, true/false); the fallback when unset. */
export function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['on', '1', 'true'].includes(raw)) return true;
  if (['off', '0', 'false'].includes(raw)) return false;
  throw new ConfigError(`${name} must be on or off, got "${raw}"`);
}

/**
 * Origins (`scheme://host[:port]`, comma-separated) the server may fetch
 * whatever they resolve to: a test's web server, or the operator's own
 * intranet site. Everything else must be public (links/guard.ts).
 */
export function origins(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const text = entry.trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`${name}: "${text}" is not an origin`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !/^[a-z]+:\/\/[^/@]+\/?$/i.test(text)) throw new ConfigError(`${name}: "${text}" is not an http(s) origin (scheme://host[:port], nothing more)`);
    return url.origin;
  });
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1, however written in a URL. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** The frame limit and the update budget, which must leave room for a `reject` frame's update below the frame limit. */
export function frameAndUpdate(env: NodeJS.ProcessEnv): { maxFrameBytes: number; maxUpdateBytes: number } {
  const maxFrameBytes = integer(env, 'PARLEY_MAX_FRAME_BYTES', DEFAULT_SYNC_LIMITS.maxFrameBytes, 128 * 1024, 256 * MiB);
  const maxUpdateBytes = integer(env, 'PARLEY_MAX_UPDATE_BYTES', DEFAULT_SYNC_LIMITS.maxUpdateBytes, 64 * 1024, 255 * MiB);
  if (maxUpdateBytes > maxFrameBytes - 1024) {
    throw new ConfigError(
      `PARLEY_MAX_UPDATE_BYTES (${maxUpdateBytes}) must be at least 1 KiB below PARLEY_MAX_FRAME_BYTES (${maxFrameBytes}), so that an update over the budget is refused with a reject frame instead of closing the socket`,
    );
  }
  return { maxFrameBytes, maxUpdateBytes };
}
