/**
 * `npm run usersig -- --user bob [--ttl 86400]`: prints a UserSig for `bob`,
 * signed with the configured hosted-service key (PARLEY_COMPAT_SDKAPPID,
 * PARLEY_COMPAT_SECRET_KEY), as the app's backend signs one.
 */
import { parseArgs } from 'node:util';
import { isUserId } from '@parley/protocol';
import { signUserSig } from '../compat/usersig.ts';
import { compatConfig } from '../config.ts';

/** The hosted service's own tools default to a lifetime of 180 days; a day is enough to try a link out. */
const DEFAULT_TTL_SECONDS = 24 * 3600;

const { values } = parseArgs({ options: { user: { type: 'string' }, ttl: { type: 'string' } } });
if (!isUserId(values.user)) {
  process.stderr.write('usage: npm run usersig -- --user <user id> [--ttl <seconds>]\n');
  process.exit(2);
}
const ttl = values.ttl === undefined ? DEFAULT_TTL_SECONDS : Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write('--ttl must be a positive number of seconds\n');
  process.exit(2);
}
const compat = compatConfig(process.env);
if (compat === null) {
  process.stderr.write('set PARLEY_COMPAT_SDKAPPID and PARLEY_COMPAT_SECRET_KEY: a UserSig is signed with them\n');
  process.exit(2);
}
process.stdout.write(`${signUserSig({ sdkAppId: compat.sdkAppId, secretKey: compat.secretKey, identifier: values.user, expireSeconds: ttl })}\n`);
