/**
 * `npm run migrate` end to end: an install made on SQLite through a real
 * server (accounts, a friendship, a block, a setting, messages with a media
 * reference and a recall, a push subscription with pushes queued, an upload
 * in progress) is moved into a fresh PostgreSQL schema, and a server on
 * PostgreSQL over the same data dir shows the same history through the HTTP
 * API and a WebSocket sync, serves the media, and resumes the queued push.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationPath, type Message } from '@parley/protocol';
import { migrate, MigrateError, type MigrateSummary } from '../src/migrate/migrate.ts';
import { DATABASE_FILE, DataDirError } from '../src/storage/data-dir.ts';
import { openDatabase } from '../src/storage/sqlite-db.ts';
import { acks, api, cleanup, message, openDoc, send, signUp, startServer, synced, tempDir, thisSegment, waitFor, type TestServer } from './helpers.ts';
import { getMedia, MediaClient } from './media-client.ts';
import { runTool, killProcesses } from './process.ts';
import { FakePushService } from './push-service.ts';
import { freshSchema, postgresUrl } from './services.ts';

/** Dropped after each test, once its servers are closed: its schemas, its push service. */
const drops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await cleanup();
  killProcesses();
  for (const drop of drops.splice(0)) await drop();
});

type Page = { messages: { id: string; seq: number; message: Message | null }[] };

const databaseUrl = postgresUrl();

/** A fresh schema on the test database, dropped after the test: its URL puts it first on the search_path. */
async function schemaUrl(base: string): Promise<string> {
  const { url, drop } = await freshSchema(base);
  drops.push(drop);
  return url;
}

/** What the tests compare: both members' history pages, as the HTTP API gives them. */
async function histories(server: TestServer, tokens: { alice: string; bob: string }): Promise<Page[]> {
  const alice = await api<Page>(server.url, 'GET', '/conversations/bob/history', undefined, tokens.alice);
  const bob = await api<Page>(server.url, 'GET', '/conversations/alice/history', undefined, tokens.bob);
  expect([alice.status, bob.status]).toEqual([200, 200]);
  return [alice.body, bob.body];
}

/** Runs one statement on the migrated schema; resolves with its rows. */
async function sql(url: string, statement: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(statement)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const countRows = async (url: string, table: string): Promise<number> => Number((await sql(url, `SELECT COUNT(*) AS n FROM ${table}`))[0]?.n);

const unchanged = (summary: MigrateSummary): boolean => summary.counts.every((c) => c.written === 0 && c.deleted === 0);

describe.runIf(databaseUrl !== null)('npm run migrate (SQLite to PostgreSQL)', () => {
  it('moves an install made through a real server, which then shows the same history on PostgreSQL; a second run changes nothing', async () => {
    const service = await FakePushService.start();
    drops.push(() => service.close());
    const env = { PARLEY_PUSH_RETRY_MS: '5', PARLEY_VAPID_SUBJECT: 'mailto:ops@parley.example', PARLEY_PUSH_ALLOW: service.url };
    const sqlite = await startServer({ env });
    const alice = await signUp(sqlite.url, 'alice');
    const bob = await signUp(sqlite.url, 'bob', 'phone');
    const carol = await signUp(sqlite.url, 'carol');
    const admin = (method: string, path: string, body?: unknown) => api(sqlite.url, method, `/admin${path}`, body, sqlite.config.adminKey);
    expect((await api(sqlite.url, 'POST', '/friends/requests', { to: 'bob' }, alice.accessToken)).status).toBe(201);
    expect((await api(sqlite.url, 'POST', '/friends/requests/alice/accept', undefined, bob.accessToken)).status).toBe(200);
    expect((await api(sqlite.url, 'PUT', '/blocklist/alice', undefined, carol.accessToken)).status).toBe(200);
    expect((await admin('PUT', '/settings', { blockKeepsFriendship: true })).status).toBe(200);
    // bob's phone is subscribed and offline; its push service holds every request, so pushes stay queued.
    service.answer('phone', 'hold', 'hold', 'hold', 'hold');
    const subscribed = await fetch(`${sqlite.url}/api/v1/push/subscription`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bob.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(service.subscription('phone')),
    });
    expect(subscribed.status).toBe(204);

    const media = new MediaClient(sqlite.url, alice.accessToken);
    const picture = randomBytes(3000);
    const { media: ref } = await media.upload(picture, { kind: 'image', peer: 'bob', mime: 'image/png' });
    // An upload left half-way, to resume on PostgreSQL.
    const partial = randomBytes(5000);
    const started = await media.create(partial, { kind: 'file', peer: 'bob', mime: 'application/octet-stream', name: 'notes.bin' });
    expect((await media.put(started.body.id, 0, partial.subarray(0, 2000))).status).toBe(200);

    const path = conversationPath('alice', 'bob', thisSegment());
    const conversation = openDoc(sqlite, path, alice.accessToken);
    await synced(conversation);
    const sent = [
      message('alice', 'bob', 'hello bob'),
      message('alice', 'bob', '', { type: 'image', body: [{ type: 'image', format: 'png', original: { media: ref, width: 10, height: 10 }, thumbnail: { media: ref, width: 5, height: 5 } }] }),
      message('alice', 'bob', 'sent by mistake'),
    ];
    for (const m of sent) send(conversation, m);
    await waitFor(() => sent.every((m) => acks(conversation).includes(m.id)), 'the acks');
    const recalled = sent[2]?.id ?? '';
    const ackFrames = () => conversation.frames.filter((f) => f.type === 'ack').length;
    const acked = ackFrames();
    conversation.doc.transact(() => {
      conversation.doc.getMap('recalls').set(recalled, { by: 'alice', ts: Date.now() });
      conversation.doc.getMap('messages').delete(recalled);
    });
    await waitFor(() => ackFrames() > acked, 'the ack of the recall');
    await waitFor(() => service.to('phone').length === 1, 'the first push, held by the push service');
    const before = await histories(sqlite, { alice: alice.accessToken, bob: bob.accessToken });
    expect(before[1]?.messages.map((m) => [m.id, m.message === null])).toEqual([
      [sent[0]?.id, false],
      [sent[1]?.id, false],
      [recalled, true],
    ]);
    conversation.destroy();
    await sqlite.parley.close();

    const url = await schemaUrl(databaseUrl ?? '');
    const lines: string[] = [];
    const first = await migrate({ from: sqlite.dataDir, to: url, log: (line) => lines.push(line) });
    expect(first.problems).toEqual([]);
    expect(first.ok).toBe(true);
    const count = (table: string) => first.counts.find((c) => c.table === table);
    for (const [table, rows] of Object.entries({ users: 3, relations: 3, settings: 1, msg_index: 3, push_subscriptions: 1, uploads: 1, media: 1, media_refs: 1 })) {
      expect(count(table), table).toMatchObject({ sqlite: rows, postgres: rows, written: rows });
    }
    expect(count('push_queue')?.postgres).toBeGreaterThan(0);
    // The queue's ids came from SQLite: PostgreSQL's sequence is past them, so the next push gets a new one.
    const [ids] = await sql(url, "SELECT pg_sequence_last_value(pg_get_serial_sequence('push_queue', 'id')::regclass) AS last, (SELECT MAX(id) FROM push_queue) AS max");
    expect(Number(ids?.last)).toBeGreaterThanOrEqual(Number(ids?.max));
    expect(count('sessions')?.postgres).toBe(3);
    expect(count('documents')?.postgres).toBeGreaterThanOrEqual(4);
    expect(first.documents.mismatched).toEqual([]);
    expect(first.media).toMatchObject({ files: 1, missing: 0 });
    // The recalled text is in no row: the documents travel as loaded, deleted content collected.
    const rows = await sql(url, 'SELECT data, codec FROM snapshots UNION ALL SELECT data, 0 FROM updates');
    const stored = rows.map((r) => (r.codec === 1 ? inflateRawSync(r.data as Buffer) : (r.data as Buffer)).toString('latin1'));
    expect(stored.join('')).toContain('hello bob');
    expect(stored.join('')).not.toContain('sent by mistake');

    // The same data dir (media, secrets) on PostgreSQL: the sessions, history, media and queued pushes carry over.
    const onPg = await startServer({ dataDir: sqlite.dataDir, env: { ...env, PARLEY_DATABASE_URL: url } });
    expect(await histories(onPg, { alice: alice.accessToken, bob: bob.accessToken })).toEqual(before);
    const reader = openDoc(onPg, path, bob.accessToken);
    await synced(reader);
    expect([...reader.doc.getMap('messages').keys()].sort()).toEqual([sent[0]?.id, sent[1]?.id].sort());
    expect(reader.doc.getMap('recalls').has(recalled)).toBe(true);
    const served = await getMedia(onPg.url, ref.hash, { token: bob.accessToken });
    expect(served.status).toBe(200);
    expect(Buffer.from(served.bytes).equals(picture)).toBe(true);
    const resumed = new MediaClient(onPg.url, alice.accessToken);
    expect((await resumed.status(started.body.id)).body.received).toBe(2000);
    expect((await api<{ blocked: { id: string }[] }>(onPg.url, 'GET', '/blocklist', undefined, carol.accessToken)).body.blocked.map((b) => b.id)).toEqual(['alice']);
    expect((await api<{ friends: { id: string }[] }>(onPg.url, 'GET', '/friends', undefined, alice.accessToken)).body.friends.map((f) => f.id)).toEqual(['bob']);
    await waitFor(() => service.to('phone').length === 2, 'the queued push, resumed from PostgreSQL');
    expect(service.to('phone').map((r) => r.payload.message.id)).toEqual([sent[0]?.id, sent[0]?.id]);
    reader.destroy();
    await onPg.parley.close();

    const second = await migrate({ from: sqlite.dataDir, to: url });
    expect(second.ok).toBe(true);
    expect(unchanged(second)).toBe(true);
    expect(second.counts.map((c) => [c.table, c.postgres])).toEqual(first.counts.map((c) => [c.table, c.postgres]));
  });

  it('catches up with a SQLite install that changed since the last run, and refuses a data dir a server holds or a database written to on PostgreSQL', async () => {
    const url = await schemaUrl(databaseUrl ?? '');
    await expect(migrate({ from: tempDir(), to: url })).rejects.toThrow(/parley\.db does not exist/);
    const sqlite = await startServer();
    const alice = await signUp(sqlite.url, 'alice');
    await signUp(sqlite.url, 'bob');
    await api(sqlite.url, 'POST', '/admin/friends', { user: 'alice', friends: ['bob'], bothWays: true }, sqlite.config.adminKey);
    const path = conversationPath('alice', 'bob', thisSegment());
    const sendOne = async (server: TestServer, text: string): Promise<void> => {
      const conversation = openDoc(server, path, alice.accessToken);
      await synced(conversation);
      const m = message('alice', 'bob', text);
      send(conversation, m);
      await waitFor(() => acks(conversation).includes(m.id), 'the ack');
      conversation.destroy();
    };
    await sendOne(sqlite, 'first');
    await expect(migrate({ from: sqlite.dataDir, to: url })).rejects.toThrow(DataDirError);
    await sqlite.parley.close();
    // The command as an operator runs it.
    const done = await runTool('migrate', ['--from', sqlite.dataDir, '--to', url]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('verified: every count and every document checksum is equal.');
    expect(done.stdout).toContain(`they stay in ${sqlite.dataDir}/media`);

    // The SQLite install ran again: a message more, a friendship less. The next run merges the one and deletes the other.
    const again = await startServer({ dataDir: sqlite.dataDir });
    await sendOne(again, 'second');
    expect((await api(again.url, 'DELETE', '/friends/bob', undefined, alice.accessToken)).status).toBe(200);
    await again.parley.close();
    const caughtUp = await migrate({ from: sqlite.dataDir, to: url });
    expect(caughtUp.problems).toEqual([]);
    const change = (table: string) => caughtUp.counts.find((c) => c.table === table);
    expect(change('relations')).toMatchObject({ sqlite: 0, postgres: 0, deleted: 2 });
    expect(change('msg_index')).toMatchObject({ sqlite: 2, postgres: 2, written: 1 });
    expect(change('documents')?.written).toBeGreaterThanOrEqual(1);

    // An account only PostgreSQL has (signed up there): refused before any table changes.
    await sql(url, "INSERT INTO users (id, nickname, created) VALUES ('dave', 'dave', 1)");
    await expect(migrate({ from: sqlite.dataDir, to: url })).rejects.toThrow(/users holds 1 rows the SQLite install does not/);
    expect(await sql(url, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 'alice' }, { id: 'bob' }, { id: 'dave' }]);
    await sql(url, "DELETE FROM users WHERE id = 'dave'");

    const onPg = await startServer({ dataDir: sqlite.dataDir, env: { PARLEY_DATABASE_URL: url } });
    await sendOne(onPg, 'written on PostgreSQL');
    await onPg.parley.close();
    // Migrating again would undo that message: refused, and the message stays.
    const refused: unknown = await migrate({ from: sqlite.dataDir, to: url }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MigrateError);
    expect((refused as Error).message).toMatch(/a PostgreSQL server has used this database/);
    expect(await countRows(url, 'msg_index')).toBe(3);
  });

  it('refuses a SQLite file with a table or a column it does not know, rather than leave data behind', async () => {
    const url = await schemaUrl(databaseUrl ?? '');
    const dataDir = tempDir();
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    const prefs = new Y.Doc();
    prefs.getMap('drafts').set('bob', { text: 'see you' });
    db.prepare('INSERT INTO updates (doc, data) VALUES (?, ?)').run('prefs/alice', Y.encodeStateAsUpdate(prefs));
    db.exec('CREATE TABLE reminders (id TEXT PRIMARY KEY)');
    await expect(migrate({ from: dataDir, to: url })).rejects.toThrow(/tables this migrate does not know \(reminders\)/);
    db.exec("DROP TABLE reminders; ALTER TABLE settings ADD COLUMN scope TEXT NOT NULL DEFAULT 'all'");
    await expect(migrate({ from: dataDir, to: url })).rejects.toThrow(/table settings differs between the two schemas \(only in PostgreSQL: none; only in SQLite: scope\)/);
    // Not even the document went over.
    expect(await countRows(url, 'snapshots')).toBe(0);
    db.exec('ALTER TABLE settings DROP COLUMN scope');
    db.close();
    expect((await migrate({ from: dataDir, to: url })).counts.find((c) => c.table === 'documents')).toMatchObject({ sqlite: 1, postgres: 1 });
  });
});

