/**
 * The server's VAPID key pair (RFC 8292), which signs every push request.
 * Generated with web-push on first start and kept in <data>/vapid.json
 * (mode 0600): browsers subscribe against the public key, so a new pair would
 * orphan every subscription.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { ConfigError } from '../config.ts';

export interface Vapid {
  /** mailto: or https: (checked by the configuration). */
  subject: string;
  /** The uncompressed P-256 public key, base64url: what `GET /push/key` hands to browsers. */
  publicKey: string;
  privateKey: string;
}

const bytes = (value: unknown): number => (typeof value === 'string' && /^[A-Za-z0-9_-]+$/.test(value) ? Buffer.from(value, 'base64url').length : -1);

export function loadVapid(dataDir: string, subject: string): Vapid {
  const file = join(dataDir, 'vapid.json');
  if (!existsSync(file)) {
    const keys = webpush.generateVAPIDKeys();
    writeFileSync(file, `${JSON.stringify(keys)}\n`, { mode: 0o600, flag: 'wx' });
    return { subject, ...keys };
  }
  let keys: { publicKey?: unknown; privateKey?: unknown };
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as typeof keys;
  } catch {
    keys = {};
  }
  if (bytes(keys.publicKey) !== 65 || bytes(keys.privateKey) !== 32) {
    throw new ConfigError(`${file} holds no VAPID key pair; move it away to generate a new one (every device must then subscribe again)`);
  }
  return { subject, publicKey: keys.publicKey as string, privateKey: keys.privateKey as string };
}
