/**
 * A real Redis for the cluster tests: PARLEY_TEST_REDIS_URL, by default the
 * local one (redis://127.0.0.1:6379). Each bus gets a random key prefix, so
 * tests running side by side (and other suites on the same Redis) never
 * share a key or a channel, and `closeBuses` deletes the keys they made.
 * When Redis is not reachable, `redisReachable` prints one line saying so
 * and how to start it, and the suites that need it do not run.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { RedisBus } from '../src/cluster/bus.ts';
import { createLog } from '../src/log.ts';

export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a TCP connection to Redis opens within a second; prints one line when it does not. */
export async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port === '' ? 6379 : port), timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
  if (!reachable) console.log(`Redis is not reachable at ${REDIS_URL} (start it: apt-get install redis-server && redis-server --daemonize yes): the cluster tests of this file were not run`);
  return reachable;
}

const open: RedisBus[] = [];

/** `count` buses on one fresh prefix: the processes of one test's cluster. */
export async function buses(count: number): Promise<RedisBus[]> {
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const log = createLog('silent');
  const made = await Promise.all(Array.from({ length: count }, () => RedisBus.connect(REDIS_URL, prefix, log)));
  open.push(...made);
  return made;
}

/** Deletes every key under the prefixes of the buses made so far, and closes them (call in afterEach). */
export async function closeBuses(): Promise<void> {
  const prefixes = new Set(open.map((bus) => bus.prefix));
  const [first] = open;
  if (first !== undefined) {
    for (const prefix of prefixes) {
      const keys = await first.redis.keys(`${prefix}*`);
      if (keys.length > 0) await first.redis.del(...keys);
    }
  }
  await Promise.all(open.splice(0).map((bus) => bus.close()));
}
