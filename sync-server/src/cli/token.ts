/**
 * `npm run token -- --user alice [--ttl 600]`: prints an app token for `alice`,
 * signed with the configured app secret, as an app backend would mint one.
 */
import { parseArgs } from 'node:util';
import { isUserId, LIFETIMES } from '@parley/protocol';
import { mintAppToken } from '../auth/tokens.ts';
import { loadConfig } from '../config.ts';

const { values } = parseArgs({ options: { user: { type: 'string' }, ttl: { type: 'string' } } });
if (!isUserId(values.user)) {
  process.stderr.write('usage: npm run token -- --user <user id> [--ttl <seconds>]\n');
  process.exit(2);
}
const ttl = values.ttl === undefined ? LIFETIMES.appToken : Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write('--ttl must be a positive number of seconds\n');
  process.exit(2);
}
const config = loadConfig(process.env);
process.stdout.write(`${await mintAppToken(config.appSecret, values.user, ttl)}\n`);
