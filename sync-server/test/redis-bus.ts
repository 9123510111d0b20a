/**
 * Buses on the tests' Redis (services.ts: `redisUrl()`, null when it was not
 * reachable, and the suites are left out). Each test's buses share one
 * random key prefix, so tests running side by side (and other suites on the
 * same Redis) never share a key or a channel, and `closeBuses` deletes the
 * keys they made.
 */
import { randomBytes } from 'node:crypto';
import { RedisBus } from '../src/cluster/bus.ts';
import { createLog } from '../src/log.ts';
import { redisUrl } from './services.ts';

const open: RedisBus[] = [];

/** `count` buses on one fresh prefix: the processes of one test's cluster. */
export async function buses(count: number): Promise<RedisBus[]> {
  const url = redisUrl();
  if (url === null) throw new Error('no Redis: leave this suite out with describe.skipIf(redisUrl() === null)');
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const log = createLog('silent');
  const made = await Promise.all(Array.from({ length: count }, () => RedisBus.connect(url, prefix, log)));
  open.push(...made);
  return made;
}

/** Deletes every key under the prefixes of the buses made so far, and closes them (call in afterEach). */
export async function closeBuses(): Promise<void> {
  const [first] = open;
  if (first !== undefined) {
    for (const prefix of new Set(open.map((bus) => bus.prefix))) {
      const keys = await first.redis.keys(`${prefix}*`);
      if (keys.length > 0) await first.redis.del(...keys);
    }
  }
  await Promise.all(open.splice(0).map((bus) => bus.close()));
}
