/**
 * Parley's SQLite file: its schema, the pragmas every connection runs with,
 * the migrations of files written by older versions, and the file-level
 * facts and upkeep (its data dir id, free pages). The stores that read and
 * write the tables are in sqlite/, one class per store; `SqliteStorage`
 * (sqlite.ts) holds two connections, the writer in a worker thread
 * (sqlite-worker.ts), so that a commit's fsync never blocks the event loop,
 * and a reader on the main thread, which WAL lets read the last committed
 * state while the writer commits.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * `updates` ids come from AUTOINCREMENT because a snapshot claims every row up
 * to an id: an id may never be handed out again after compaction deleted it.
 * Each store's file in sqlite/ says why its tables are shaped as they are.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS updates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_doc ON updates (doc, id);
CREATE TABLE IF NOT EXISTS snapshots (
  doc TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  upto INTEGER NOT NULL,
  codec INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  last_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_a ON conversations (a);
CREATE INDEX IF NOT EXISTS conversations_b ON conversations (b);
CREATE TABLE IF NOT EXISTS msg_index (
  conversation TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  ts INTEGER NOT NULL,
  segment TEXT NOT NULL,
  PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
  conversation TEXT NOT NULL,
  segment TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (conversation, segment)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  password_hash TEXT,
  nickname TEXT NOT NULL,
  avatar TEXT,
  about TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT 'user',
  created INTEGER NOT NULL,
  read_receipts INTEGER NOT NULL DEFAULT 1,
  presence TEXT NOT NULL DEFAULT 'everyone',
  last_seen INTEGER,
  discoverable INTEGER NOT NULL DEFAULT 1,
  deleted INTEGER,
  erased INTEGER
);
-- Avatars are media anyone signed in may read (Media.readable): found by hash.
CREATE INDEX IF NOT EXISTS users_avatar ON users (avatar) WHERE avatar IS NOT NULL;
CREATE TABLE IF NOT EXISTS relations (
  owner TEXT NOT NULL,
  kind TEXT NOT NULL,
  other TEXT NOT NULL,
  note TEXT,
  created INTEGER NOT NULL,
  PRIMARY KEY (owner, kind, other)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_other ON relations (other, kind);
-- One row, rewritten by each storage probe (storage/health.ts): a write transaction that touches nothing else.
CREATE TABLE IF NOT EXISTS probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Invite links: only each token's SHA-256 is kept (sqlite/social.ts).
CREATE TABLE IF NOT EXISTS invites (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS invites_owner ON invites (owner, created);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  device TEXT NOT NULL,
  kind TEXT NOT NULL,
  peer TEXT NOT NULL,
  size INTEGER NOT NULL,
  mime TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  name TEXT,
  received INTEGER NOT NULL,
  created INTEGER NOT NULL,
  written INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_user ON uploads (user, created);
CREATE TABLE IF NOT EXISTS media (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mime TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT,
  created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS media_uploaders (
  hash TEXT NOT NULL,
  user TEXT NOT NULL,
  PRIMARY KEY (hash, user)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS media_uploaders_user ON media_uploaders (user);
CREATE TABLE IF NOT EXISTS media_refs (
  hash TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (hash, a, b)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS media_waiting (
  hash TEXT NOT NULL,
  sender TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (hash, sender, a, b)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS push_subscriptions (
  user TEXT NOT NULL,
  device TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  previews INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (user, device)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_subscriptions_endpoint ON push_subscriptions (endpoint);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  device TEXT NOT NULL,
  label TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  refresh_hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
-- Facts about the file itself: 'data-dir-id' matches the data dir's marker (storage/data-dir.ts).
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user TEXT NOT NULL,
  device TEXT NOT NULL,
  payload TEXT NOT NULL,
  urgency TEXT NOT NULL,
  topic TEXT NOT NULL,
  created INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  due INTEGER NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  claim_until INTEGER NOT NULL DEFAULT 0
);
-- After-send callbacks (sqlite/callbacks.ts), each inserted in its message's own commit.
CREATE TABLE IF NOT EXISTS callback_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation TEXT NOT NULL,
  msg TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  due INTEGER NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  claim_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS callback_queue_due ON callback_queue (due);
CREATE INDEX IF NOT EXISTS callback_queue_msg ON callback_queue (conversation, msg);
-- The fencing tokens of a document's authority (DocStore.lead); one process writes a SQLite file, so they are only counted.
CREATE TABLE IF NOT EXISTS doc_leaders (
  doc TEXT PRIMARY KEY,
  token INTEGER NOT NULL,
  node TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Free pages given back per background step: 512 KB, a short write transaction. */
export const VACUUM_STEP_PAGES = 128;

/** Opens the database, creating it and its tables when new; the caller closes it. */
export function openDatabase(file: string): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // Must precede the first table; on an older file without it this is a no-op
  // (the file then keeps its free pages, as before).
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  // An `ack` promises the write survives a crash or power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, so a recalled message's bytes
  // do not linger in free space (see erase).
  db.pragma('secure_delete = ON');
  const hadSegments = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'").get() !== undefined;
  db.exec(SCHEMA);
  // Files from before the segments table: build it once from the index.
  if (!hadSegments) {
    db.exec('INSERT OR IGNORE INTO segments (conversation, segment, count, first_seq, last_seq) SELECT conversation, segment, COUNT(*), MIN(seq), MAX(seq) FROM msg_index GROUP BY conversation, segment');
  }
  migrateUserIdCase(db);
  // Once per file (both connections run this; the first one's id stays).
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('data-dir-id', ?)").run(randomUUID());
  // Files created before snapshots had a codec: their snapshots are all plain.
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('snapshots')").all();
  if (!columns.some((c) => c.name === 'codec')) db.exec('ALTER TABLE snapshots ADD COLUMN codec INTEGER NOT NULL DEFAULT 0');
  // Files from before uploads expired by their last write: their uploads were last written when created, as far as anyone knows.
  const uploadColumns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('uploads')").all();
  if (!uploadColumns.some((c) => c.name === 'written')) db.exec('ALTER TABLE uploads ADD COLUMN written INTEGER NOT NULL DEFAULT 0; UPDATE uploads SET written = created');
  // Files from before the push queue was shared between processes: their pushes are unclaimed.
  const pushColumns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('push_queue')").all();
  if (!pushColumns.some((c) => c.name === 'claimed_by')) db.exec("ALTER TABLE push_queue ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''");
  if (!pushColumns.some((c) => c.name === 'claim_until')) db.exec('ALTER TABLE push_queue ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0');
  // Files from before the privacy settings: every user has the defaults, and no last-seen time.
  const userColumns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('users')").all();
  if (!userColumns.some((c) => c.name === 'read_receipts')) {
    db.exec("ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1; ALTER TABLE users ADD COLUMN presence TEXT NOT NULL DEFAULT 'everyone'; ALTER TABLE users ADD COLUMN last_seen INTEGER");
  }
  // Files from before people search: everyone is discoverable, the default.
  if (!userColumns.some((c) => c.name === 'discoverable')) db.exec('ALTER TABLE users ADD COLUMN discoverable INTEGER NOT NULL DEFAULT 1');
  // Files from before account deletion: no one is deleted.
  if (!userColumns.some((c) => c.name === 'deleted')) db.exec('ALTER TABLE users ADD COLUMN deleted INTEGER; ALTER TABLE users ADD COLUMN erased INTEGER');
  // Files from before the about line: nobody has one.
  if (!userColumns.some((c) => c.name === 'about')) db.exec("ALTER TABLE users ADD COLUMN about TEXT NOT NULL DEFAULT ''");
  return db;
}

/**
 * Ids are unique regardless of ASCII case (ids are ASCII, so SQLite's NOCASE
 * is the fold protocol's `userIdKey` makes). A file from before that rule may
 * hold ids that differ only in case: the start does not fail on it; such a
 * file gets a plain index instead, sign-in prefers the exact id, and
 * `userIdClashes` lists them for the operator. Once they are resolved, the
 * next start makes the index unique.
 */
function migrateUserIdCase(db: Database.Database): void {
  try {
    db.exec('CREATE UNIQUE INDEX IF NOT EXISTS users_id_nocase ON users (id COLLATE NOCASE); DROP INDEX IF EXISTS users_id_nocase_clashing');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
    db.exec('CREATE INDEX IF NOT EXISTS users_id_nocase_clashing ON users (id COLLATE NOCASE)');
  }
}

/** The id this database shares with its data dir's marker (data-dir.ts). */
export function dataDirId(db: Database.Database): string {
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'data-dir-id'").get();
  if (row === undefined) throw new Error('the database has no data-dir-id (openDatabase writes one)');
  return row.value;
}

/** Groups of user ids that differ only in case (left by a database from before ids were unique regardless of case). */
export function userIdClashes(db: Database.Database): string[][] {
  return db
    .prepare<[], { ids: string }>("SELECT json_group_array(id) AS ids FROM users GROUP BY id COLLATE NOCASE HAVING COUNT(*) > 1")
    .all()
    .map((row) => JSON.parse(row.ids) as string[]);
}

/**
 * Gives up to `pages` free pages back to the file system (all when
 * undefined); true when free pages remain. Only files created with
 * auto_vacuum = INCREMENTAL shrink; on others this is a no-op.
 */
export function vacuum(db: Database.Database, pages?: number): boolean {
  if (db.pragma('auto_vacuum', { simple: true }) !== 2) return false;
  db.pragma(pages === undefined ? 'incremental_vacuum' : `incremental_vacuum(${pages})`);
  return (db.pragma('freelist_count', { simple: true }) as number) > 0;
}

/** Whether enough of the file is free pages to be worth giving back now (a quarter and at least 8 MB). */
export function worthVacuuming(db: Database.Database): boolean {
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const total = db.pragma('page_count', { simple: true }) as number;
  const page = db.pragma('page_size', { simple: true }) as number;
  return free * page >= 8 * 1024 * 1024 && free * 4 >= total;
}
