/**
 * The server on PostgreSQL (PARLEY_DATABASE_URL): a real server on port 0
 * over a fresh schema, real WebSocket clients. A message acked on one run is
 * there after a restart, and the data dir then holds no SQLite file (only
 * media and secrets). The settings themselves are checked without a database.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { loadConfig } from '../src/index.ts';
import { DATABASE_FILE } from '../src/storage/data-dir.ts';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, tempDir, thisSegment, waitFor } from './helpers.ts';
import { freshSchema, postgresUrl, type TestSchema } from './services.ts';

const url = postgresUrl();

describe('the database settings', () => {
  it('default to SQLite in the data dir, with a pool of 10 once a PostgreSQL URL is set', () => {
    const config = loadConfig({ PARLEY_DATA_DIR: tempDir() });
    expect(config.databaseUrl).toBeNull();
    expect(config.databasePool).toBe(10);
    expect(loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DATABASE_URL: 'postgres://parley@db:5432/parley', PARLEY_DATABASE_POOL: '3' })).toMatchObject({
      databaseUrl: 'postgres://parley@db:5432/parley',
      databasePool: 3,
    });
  });

  it('refuses a URL that is not postgres:// without echoing it, and a pool size out of range', () => {
    expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DATABASE_URL: 'mysql://u:secret@db/x' })).toThrow(/^PARLEY_DATABASE_URL must be a postgres:\/\/[^"]*$/);
    expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DATABASE_URL: 'not a url' })).toThrow(/PARLEY_DATABASE_URL/);
    expect(() => loadConfig({ PARLEY_DATA_DIR: tempDir(), PARLEY_DATABASE_POOL: '0' })).toThrow(/PARLEY_DATABASE_POOL/);
  });
});

describe.runIf(url !== null)('the server on PostgreSQL', () => {
  let schema: TestSchema | undefined;
  afterEach(async () => {
    await cleanup();
    await schema?.drop();
    schema = undefined;
  });

  it('signs up, acks a message after its commit, and finds both after a restart', async () => {
    schema = await freshSchema(url ?? '');
    const dataDir = tempDir();
    const env = { PARLEY_DATABASE_URL: schema.url, PARLEY_DATABASE_POOL: '4' };
    const first = await startServer({ dataDir, env });
    const alice = await signUp(first.url, 'alice');
    await signUp(first.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = openDoc(first, path, alice.accessToken);
    await synced(a);
    const sent = message('alice', 'bob', 'stored in PostgreSQL');
    send(a, sent);
    await waitFor(() => acks(a).includes(sent.id), 'the ack');
    a.destroy();
    await first.parley.close();
    expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(false);

    // The same data dir (its secrets) and the same database: a second start, with no SQLite file beside the secrets.
    const second = await startServer({ dataDir, env });
    const signIn = await api<{ accessToken: string }>(second.url, 'POST', '/auth/signin', { user: 'bob', password: 'correct horse', device: 'phone' });
    expect(signIn.status).toBe(200);
    const b = openDoc(second, path, signIn.body.accessToken);
    await synced(b);
    await waitFor(() => b.doc.getMap('messages').has(sent.id), 'the message after the restart');
    expect(b.doc.getMap<number>('seq').get(sent.id)).toBe(1);
    // Case-insensitive ids hold on PostgreSQL too.
    expect((await api(second.url, 'POST', '/auth/signup', { user: 'ALICE', password: 'correct horse', device: 'x' })).status).toBe(409);
  });

  it("acks messages while the data dir's disk is below its reserve: it holds media only, the messages go to PostgreSQL", async () => {
    schema = await freshSchema(url ?? '');
    // A reserve no disk has: on SQLite every new message would be refused storage-full.
    const server = await startServer({ env: { PARLEY_DATABASE_URL: schema.url, PARLEY_MIN_FREE_DISK_BYTES: String(Number.MAX_SAFE_INTEGER) } });
    const alice = await signUp(server.url, 'alice');
    await signUp(server.url, 'bob');
    const a = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
    await synced(a);
    const sent = message('alice', 'bob', 'not held back by the local disk');
    send(a, sent);
    await waitFor(() => acks(a).includes(sent.id), 'the ack');
    expect(rejects(a)).toEqual([]);
  });
});
