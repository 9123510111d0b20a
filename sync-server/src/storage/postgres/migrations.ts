/**
 * The PostgreSQL schema, as an ordered list of versioned migrations, and the
 * step that brings a database up to the newest at open. Version 1 is the
 * whole schema of SQLite's file (storage/sqlite-db.ts) plus `doc_leaders`
 * (the fencing tokens of the cluster's document authorities).
 *
 * Several processes may start at once on one database: each migration runs
 * in its own transaction under a transaction-level advisory lock (per
 * schema), and re-reads the recorded version under that lock, so each runs
 * exactly once and a process that lost the race finds the work done.
 *
 * Column names follow SQLite's, except `user`, which in PostgreSQL is the
 * function `current_user` when left unquoted: it is `user_id` here.
 */
import type pg from 'pg';
import { transaction } from './db.ts';

export interface Migration {
  version: number;
  /** Statements run in one transaction. */
  sql: string;
}

/**
 * Ids are BIGSERIAL and never reused: a snapshot claims every log row up to
 * an id. Times are ms since the epoch (BIGINT), blobs BYTEA. Snapshots keep
 * SQLite's `codec` (1 = deflated), so a copied install's rows move unchanged.
 */
const V1 = `
CREATE TABLE updates (
  id BIGSERIAL PRIMARY KEY,
  doc TEXT NOT NULL,
  data BYTEA NOT NULL
);
CREATE INDEX updates_doc ON updates (doc, id);
CREATE TABLE snapshots (
  doc TEXT PRIMARY KEY,
  data BYTEA NOT NULL,
  upto BIGINT NOT NULL,
  codec INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  last_seq BIGINT NOT NULL
);
CREATE INDEX conversations_a ON conversations (a);
CREATE INDEX conversations_b ON conversations (b);
CREATE TABLE msg_index (
  conversation TEXT NOT NULL,
  seq BIGINT NOT NULL,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  ts BIGINT NOT NULL,
  segment TEXT NOT NULL,
  PRIMARY KEY (conversation, seq)
);
CREATE TABLE segments (
  conversation TEXT NOT NULL,
  segment TEXT NOT NULL,
  count BIGINT NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  PRIMARY KEY (conversation, segment)
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  password_hash TEXT,
  nickname TEXT NOT NULL,
  avatar TEXT,
  role TEXT NOT NULL DEFAULT 'user',
  created BIGINT NOT NULL
);
-- Ids are unique regardless of ASCII case (they are ASCII: lower() is the fold of protocol's userIdKey).
CREATE UNIQUE INDEX users_id_lower ON users (lower(id));
CREATE INDEX users_avatar ON users (avatar) WHERE avatar IS NOT NULL;
CREATE TABLE relations (
  owner TEXT NOT NULL,
  kind TEXT NOT NULL,
  other TEXT NOT NULL,
  note TEXT,
  created BIGINT NOT NULL,
  PRIMARY KEY (owner, kind, other)
);
CREATE INDEX relations_other ON relations (other, kind);
-- One row, rewritten by each storage probe (storage/health.ts).
CREATE TABLE probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at BIGINT NOT NULL
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device TEXT NOT NULL,
  kind TEXT NOT NULL,
  peer TEXT NOT NULL,
  size BIGINT NOT NULL,
  mime TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  name TEXT,
  received BIGINT NOT NULL,
  created BIGINT NOT NULL,
  written BIGINT NOT NULL
);
CREATE INDEX uploads_user ON uploads (user_id, created);
CREATE TABLE media (
  hash TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  mime TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT,
  created BIGINT NOT NULL
);
CREATE TABLE media_uploaders (
  hash TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (hash, user_id)
);
CREATE INDEX media_uploaders_user ON media_uploaders (user_id);
CREATE TABLE media_refs (
  hash TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (hash, a, b)
);
CREATE TABLE media_waiting (
  hash TEXT NOT NULL,
  sender TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (hash, sender, a, b)
);
CREATE TABLE push_subscriptions (
  user_id TEXT NOT NULL,
  device TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  previews BOOLEAN NOT NULL,
  updated BIGINT NOT NULL,
  PRIMARY KEY (user_id, device)
);
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (endpoint);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device TEXT NOT NULL,
  label TEXT NOT NULL,
  created BIGINT NOT NULL,
  last_used BIGINT NOT NULL,
  refresh_hash TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
-- Facts about the install (a copied SQLite install may record where it came from).
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE push_queue (
  id BIGSERIAL PRIMARY KEY,
  user_id TEXT NOT NULL,
  device TEXT NOT NULL,
  payload TEXT NOT NULL,
  urgency TEXT NOT NULL,
  topic TEXT NOT NULL,
  created BIGINT NOT NULL,
  attempts INTEGER NOT NULL,
  due BIGINT NOT NULL
);
-- Each document's authority in a cluster: a commit carrying a fence write checks its token (stores/docs.ts).
CREATE TABLE doc_leaders (
  doc TEXT PRIMARY KEY,
  token BIGINT NOT NULL,
  node TEXT NOT NULL
);
`;

/**
 * The push queue shared by the processes of a cluster: each row names the
 * process sending it and until when (stores/push.ts); '' and 0 are free.
 */
const V2 = `
ALTER TABLE push_queue ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '', ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;
`;

/** Privacy settings (protocol/src/privacy.ts) and the last-seen time of each user. */
const V3 = `
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1, ADD COLUMN presence TEXT NOT NULL DEFAULT 'everyone', ADD COLUMN last_seen BIGINT;
`;

/**
 * People search and invite links: whether a user may be found by id prefix
 * and nickname (INTEGER 1/0, as in SQLite, so `npm run migrate` copies it
 * as it is), and invite links, kept by their token's SHA-256.
 */
const V4 = `
ALTER TABLE users ADD COLUMN discoverable INTEGER NOT NULL DEFAULT 1;
CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL
);
CREATE INDEX invites_owner ON invites (owner, created);
`;

/**
 * Account deletion (issue 17): a deleted user stays as a tombstone row (the
 * id is never taken again); `deleted` is when the deletion was asked,
 * `erased` when its erasure finished (a start resumes those without it).
 */
const V5 = `
ALTER TABLE users ADD COLUMN deleted BIGINT, ADD COLUMN erased BIGINT;
`;

/** A profile's "about" line (cleaned, at most 140 characters; '' when none). */
const V6 = `
ALTER TABLE users ADD COLUMN about TEXT NOT NULL DEFAULT '';
`;

/**
 * The after-send callback queue (compat/after-send.ts), as SQLite's: each
 * row inserted in its message's own commit, claimed as push_queue's are.
 */
const V7 = `
CREATE TABLE callback_queue (
  id BIGSERIAL PRIMARY KEY,
  conversation TEXT NOT NULL,
  msg TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  due BIGINT NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  claim_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX callback_queue_due ON callback_queue (due);
CREATE INDEX callback_queue_msg ON callback_queue (conversation, msg);
`;

/** Every migration, oldest first; a new one is appended with the next version, never edited once shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, sql: V1 },
  { version: 2, sql: V2 },
  { version: 3, sql: V3 },
  { version: 4, sql: V4 },
  { version: 5, sql: V5 },
  { version: 6, sql: V6 },
  { version: 7, sql: V7 },
];

/**
 * Runs the migrations the database (the schema first on its search_path)
 * lacks, each in its own transaction; resolves with the versions run here
 * (empty when another process ran them, or none were missing).
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const ran: number[] = [];
  for (const migration of migrations) {
    const applied = await transaction(pool, async (client) => {
      // Per schema, so that test schemas on one database do not wait for each other.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('parley_schema:' || current_schema()))");
      await client.query('CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)');
      const done = await client.query('SELECT 1 FROM parley_schema WHERE version = $1', [migration.version]);
      if (done.rowCount !== 0) return false;
      await client.query(migration.sql);
      await client.query('INSERT INTO parley_schema (version, applied) VALUES ($1, $2)', [migration.version, Date.now()]);
      return true;
    });
    if (applied) ran.push(migration.version);
  }
  return ran;
}
