/**
 * Moving an install to PostgreSQL (docs/deploy.md): a conversation written
 * through the app on the default SQLite install, the server stopped, `npm
 * run migrate` run as an operator runs it, the server started again on
 * PostgreSQL with the same data dir; a new device of each user shows the
 * same history, with the same avatar-less profiles, and writing goes on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_TEST_DATABASE_URL, freshSchema, probePostgres } from '../../sync-server/test/service-probes.ts';
import { expect, Parley, test } from '../fixtures.ts';
import { REPO_ROOT, startServer } from '../server.ts';

const run = promisify(execFile);

test('an install moved to PostgreSQL with npm run migrate shows the same history on a new device', async ({ browser }, testInfo) => {
  const database = process.env['PARLEY_TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;
  const unreachable = await probePostgres(database);
  if (unreachable !== null && process.env['PARLEY_REQUIRE_SERVICES'] === '1') throw new Error(`PostgreSQL is not reachable at ${database}: ${unreachable}`);
  testInfo.skip(unreachable !== null, `the migration spec needs PostgreSQL (${database}: ${unreachable ?? ''}): start it (.ci/services does) to run it`);

  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-e2e-migrate-'));
  const schema = await freshSchema(database);
  let onPostgres: Parley | null = null;
  try {
    // The install as people used it: SQLite in its data dir.
    const onSqlite = new Parley(await startServer({}, { dataDir }), browser);
    await onSqlite.signup('alice', 'Alice');
    const alice = await onSqlite.signedIn('alice-laptop', 'alice');
    const bob = await onSqlite.device('bob');
    await bob.signUp('bob', 'Bob');
    await alice.startChat('bob', 'Bob');
    await alice.send('Before the move');
    await bob.openConversation('alice', 'Alice');
    await bob.send('Moving to PostgreSQL 🐘');
    const history = ['Before the move', 'Moving to PostgreSQL 🐘'];
    await expect(alice.messageTexts()).toHaveText(history);
    await onSqlite.dispose(testInfo);

    // The operator's two commands: migrate, then start on PostgreSQL with the same data dir (media, secrets).
    const migrated = await run('npm', ['run', '--silent', 'migrate', '--', '--from', dataDir, '--to', schema.url], { cwd: REPO_ROOT });
    await testInfo.attach('migrate-output', { body: migrated.stdout, contentType: 'text/plain' });
    onPostgres = new Parley(await startServer({ PARLEY_DATABASE_URL: schema.url }, { dataDir }), browser);

    const bobAgain = await onPostgres.signedIn('bob-new-phone', 'bob');
    await bobAgain.openConversation('alice', 'Alice');
    await expect(bobAgain.messageTexts()).toHaveText(history);
    const aliceAgain = await onPostgres.signedIn('alice-new-laptop', 'alice');
    await aliceAgain.openConversation('bob', 'Bob');
    await expect(aliceAgain.messageTexts()).toHaveText(history);
    await aliceAgain.send('Arrived!');
    await expect(bobAgain.messageTexts()).toHaveText([...history, 'Arrived!']);
  } finally {
    await onPostgres?.dispose(testInfo);
    await schema.drop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
});
