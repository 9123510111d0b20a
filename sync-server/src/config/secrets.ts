/**
 * The secrets the server generates into its data dir on first start
 * (app-secret, admin-key, jwt-secret; push/vapid.ts keeps vapid.json the
 * same way), and what to do when one is found damaged.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreCommand } from '../storage/data-dir.ts';
import { writeFileDurably } from '../storage/durable-files.ts';
import { ConfigError } from './values.ts';

/** What generating a secret anew costs, for the message that offers it. */
const NEW_SECRET_COSTS: Record<string, string> = {
  'jwt-secret': 'access tokens issued before stop working and devices refresh them',
  'app-secret': "the app backend that mints app tokens must be given the new one",
  'admin-key': 'admin clients must be given the new one',
};

/**
 * A secret kept in a file of the data dir, created on first start (durably:
 * an empty file after a power cut would stop every later start). One found
 * empty or too short stops the start with what to do about it.
 */
export function fileSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32) {
      const what = secret.length === 0 ? 'is empty' : 'holds a secret shorter than 32 characters';
      throw new ConfigError(`${file} ${what} (damaged, perhaps by a crash while it was first written). ${secretAdvice(dataDir, name, NEW_SECRET_COSTS[name] ?? 'whatever it signed stops being valid')}`);
    }
    return secret;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileDurably(file, `${secret}\n`);
  return secret;
}

/** What to do about a damaged secret file: the backup holds it; a new one costs `cost`. */
export function secretAdvice(dataDir: string, name: string, cost: string): string {
  return (
    `Restore it from a backup: copy ${name} from the backup directory into ${dataDir}, or restore the whole data dir with ` +
    `\`${restoreCommand(dataDir)}\`. Or delete it to generate a new one (${cost}).`
  );
}
