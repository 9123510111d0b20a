/** The probe of the outside services (services.ts): a service that does not answer leaves its suites out with one line, or fails the run when CI requires them. */
import { expect, it } from 'vitest';
import { checkServices } from './services.ts';

// Port 1 on this machine: nothing listens there, so a connection is refused at once.
const nowhere = { PARLEY_TEST_DATABASE_URL: 'postgres://root@127.0.0.1:1/test', PARLEY_TEST_REDIS_URL: 'redis://127.0.0.1:1' };

it('leaves out a service that does not answer, with one line saying how to start it', async () => {
  const services = await checkServices(nowhere);
  expect(services.postgresUrl).toBeNull();
  expect(services.redisUrl).toBeNull();
  expect(services.missing).toHaveLength(2);
  expect(services.missing[0]).toMatch(/^PostgreSQL is not reachable at postgres:\/\/root@127\.0\.0\.1:1\/test .*the PostgreSQL suites did not run\. Start it with/);
  expect(services.missing[1]).toMatch(/^Redis is not reachable at redis:\/\/127\.0\.0\.1:1 .*the Redis suites did not run\. Start it with/);
});

it('fails instead when PARLEY_REQUIRE_SERVICES=1', async () => {
  await expect(checkServices({ ...nowhere, PARLEY_REQUIRE_SERVICES: '1' })).rejects.toThrow(/^PARLEY_REQUIRE_SERVICES=1: PostgreSQL is not reachable/);
});
