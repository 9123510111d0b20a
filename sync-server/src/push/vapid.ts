/**
 * The server's VAPID key pair (RFC 8292), which signs every push request.
 * Generated with web-push on first start and kept in <data>/vapid.json
 * (mode 0600, written durably): browsers subscribe against the public key, so
 * a new pair would orphan every subscription.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { secretAdvice } from '../config/secrets.ts';
import { ConfigError } from '../config/values.ts';
import { writeFileDurably } from '../storage/durable-files.ts';

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
    writeFileDurably(file, `${JSON.stringify(keys)}\n`);
    return { subject, ...keys };
  }
  const text = readFileSync(file, 'utf8');
  let keys: { publicKey?: unknown; privateKey?: unknown } = {};
  try {
    keys = (JSON.parse(text) as typeof keys | null) ?? {};
  } catch {
    // reported below, as a file without a key pair
  }
  if (bytes(keys.publicKey) !== 65 || bytes(keys.privateKey) !== 32) {
    const what = text.trim() === '' ? 'is empty' : 'holds no VAPID key pair';
    throw new ConfigError(`${file} ${what} (damaged, perhaps by a crash while it was first written). ${secretAdvice(dataDir, 'vapid.json', 'every device must then subscribe to push again')}`);
  }
  return { subject, publicKey: keys.publicKey as string, privateKey: keys.privateKey as string };
}
