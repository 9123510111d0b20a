/**
 * One better-sqlite3 connection to Parley's database and its statements,
 * synchronous. `SqliteStorage` holds two: the writer, in a worker thread
 * (sqlite-worker.ts), so that a commit's fsync never blocks the event loop,
 * and a reader on the main thread, which WAL lets read the last committed
 * state while the writer commits (reads are small and never wait for a disk
 * flush).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { MediaKind } from '@parley/protocol';
import {
  membersOf,
  type IndexedMessage,
  type PushSubscriptionRecord,
  type QueuedPush,
  type RelationChange,
  type RelationRow,
  type MediaRecord,
  type DocSnapshot,
  type SegmentRow,
  type StoredDoc,
  type SessionRecord,
  type UploadRecord,
  type UserPatch,
  type UserRecord,
  type Write,
} from './storage.ts';

/**
 * `updates` ids come from AUTOINCREMENT because a snapshot claims every row up
 * to an id: an id may never be handed out again after compaction deleted it.
 * `msg_index` is WITHOUT ROWID (its key is the row) and has no second index:
 * each accepted message costs one small row, the biggest thing stored per
 * message after the document itself. `segments` keeps, per conversation
 * and month, the count and sequence range of its messages, updated in the
 * same transaction as `msg_index`, so listing a conversation's segments reads
 * one row per month however long the history. Snapshots are stored deflated
 * (`codec` 1; 0 is a plain Yjs update): a conversation's encoded state is
 * mostly JSON keys and text and shrinks to a fraction; the log rows, short
 * lived, stay plain.
 *
 * Media access is two small keyed tables read by one lookup per request:
 * `media_uploaders` (who uploaded a hash) and `media_refs` (conversations
 * with a message that references it, written in the message's own
 * transaction). A reference from a sender who may not read the hash yet (the
 * message outran its upload) waits in `media_waiting` until that sender's
 * upload completes, so naming a hash never grants it.
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
  role TEXT NOT NULL DEFAULT 'user',
  created INTEGER NOT NULL
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
  due INTEGER NOT NULL
);
`;

/** Free pages given back per background step: 512 KB, a short write transaction. */
export const VACUUM_STEP_PAGES = 128;

const CODEC_DEFLATE = 1;

interface PushSubscriptionRow {
  user: string;
  device: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  previews: number;
  updated: number;
}

const toSubscription = (row: PushSubscriptionRow): PushSubscriptionRecord => ({ ...row, previews: row.previews !== 0 });

/** An uploads row: an UploadRecord whose kind SQLite holds as plain text. */
type UploadRow = Omit<UploadRecord, 'kind'> & { kind: string };

// Type-only use of the protocol: the worker thread loads this file and need not load zod and Yjs.
const toUpload = (row: UploadRow): UploadRecord => ({ ...row, kind: row.kind as MediaKind });

interface MediaRow {
  hash: string;
  size: number;
  mime: string;
  kind: string;
  name: string | null;
  created: number;
}

const toMedia = (row: MediaRow): MediaRecord => ({ ...row, kind: row.kind as MediaKind });

interface UserRow {
  id: string;
  password_hash: string | null;
  nickname: string;
  avatar: string | null;
  role: string;
  created: number;
}

const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  passwordHash: row.password_hash,
  nickname: row.nickname,
  avatar: row.avatar,
  role: row.role === 'admin' ? 'admin' : 'user',
  created: row.created,
});

export type { UserPatch } from './storage.ts';

interface SessionRow {
  id: string;
  user: string;
  device: string;
  label: string;
  created: number;
  last_used: number;
  refresh_hash: string;
}

const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  user: row.user,
  device: row.device,
  label: row.label,
  created: row.created,
  lastUsed: row.last_used,
  refreshHash: row.refresh_hash,
});

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

export class SqliteDb {
  private readonly stmt;
  private readonly commitTx: (writes: readonly Write[]) => number[];
  private readonly compactTx: (doc: string, snapshot: Uint8Array, upto: number) => void;

  constructor(readonly db: Database.Database) {
    this.stmt = {
      snapshot: db.prepare<[string], { data: Buffer; upto: number; codec: number }>('SELECT data, upto, codec FROM snapshots WHERE doc = ?'),
      snapshotUpto: db.prepare<[string], { upto: number }>('SELECT upto FROM snapshots WHERE doc = ?'),
      log: db.prepare<[string, number], { id: number; data: Buffer }>('SELECT id, data FROM updates WHERE doc = ? AND id > ? ORDER BY id'),
      logLength: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM updates WHERE doc = ?'),
      append: db.prepare<[string, Uint8Array]>('INSERT INTO updates (doc, data) VALUES (?, ?)'),
      lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM conversations WHERE id = ?'),
      probe: db.prepare<[number]>('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
      setSeq: db.prepare<[string, string, string, number]>(
        'INSERT INTO conversations (id, a, b, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq',
      ),
      message: db.prepare<[string, number, string, string, number, string]>(
        'INSERT INTO msg_index (conversation, seq, id, sender, ts, segment) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // Walks the conversation's rows after `seq` (the unread ones, so few).
      countAfter: db.prepare<[string, number, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM msg_index WHERE conversation = ? AND seq > ? AND sender = ?',
      ),
      peers: db.prepare<[string, string, string], { peer: string }>(
        'SELECT CASE WHEN a = ? THEN b ELSE a END AS peer FROM conversations WHERE a = ? OR b = ?',
      ),
      putSnapshot: db.prepare<[string, Uint8Array, number, number]>(
        'INSERT INTO snapshots (doc, data, upto, codec) VALUES (?, ?, ?, ?) ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto, codec = excluded.codec',
      ),
      dropLog: db.prepare<[string, number]>('DELETE FROM updates WHERE doc = ? AND id <= ?'),
      // Checked here, not only by the index: a file with case clashes has a plain one (see migrateUserIdCase).
      insertUser: db.prepare<[string, string | null, string, string | null, string, number, string]>(
        'INSERT INTO users (id, password_hash, nickname, avatar, role, created) SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = ? COLLATE NOCASE)',
      ),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      isAvatar: db.prepare<[string], { ok: number }>('SELECT EXISTS (SELECT 1 FROM users WHERE avatar = ?) AS ok'),
      findUser: db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE id = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1'),
      setNickname: db.prepare<[string, string]>('UPDATE users SET nickname = ? WHERE id = ?'),
      setAvatar: db.prepare<[string, string]>('UPDATE users SET avatar = ? WHERE id = ?'),
      setPassword: db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE id = ?'),
      sessions: db.prepare<[], SessionRow>('SELECT * FROM sessions'),
      sessionsOf: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE user = ? ORDER BY created'),
      getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      putSession: db.prepare<[SessionRow]>(
        'INSERT OR REPLACE INTO sessions (id, user, device, label, created, last_used, refresh_hash) VALUES (@id, @user, @device, @label, @created, @last_used, @refresh_hash)',
      ),
      rotateSession: db.prepare<[string, number, string, string]>('UPDATE sessions SET refresh_hash = ?, last_used = ? WHERE id = ? AND refresh_hash = ?'),
      touchSession: db.prepare<[number, string]>('UPDATE sessions SET last_used = MAX(last_used, ?) WHERE id = ?'),
      deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
      relationsOf: db.prepare<[string, string], RelationRow>(
        "SELECT owner, kind, other, note, created FROM relations WHERE owner = ? UNION ALL SELECT owner, kind, other, note, created FROM relations WHERE other = ? AND kind = 'request'",
      ),
      putRelation: db.prepare<[string, string, string, string | null, number]>(
        'INSERT INTO relations (owner, kind, other, note, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner, kind, other) DO UPDATE SET note = excluded.note, created = excluded.created',
      ),
      deleteRelation: db.prepare<[string, string, string]>('DELETE FROM relations WHERE owner = ? AND kind = ? AND other = ?'),
      settings: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings'),
      putSetting: db.prepare<[string, string]>('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      segmentsOf: db.prepare<[string], { segment: string; count: number; first_seq: number; last_seq: number }>(
        'SELECT segment, count, first_seq, last_seq FROM segments WHERE conversation = ? ORDER BY segment',
      ),
      countSegment: db.prepare<[string, string, number, number, number]>(
        'INSERT INTO segments (conversation, segment, count, first_seq, last_seq) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (conversation, segment) DO UPDATE SET count = count + excluded.count, first_seq = MIN(first_seq, excluded.first_seq), last_seq = MAX(last_seq, excluded.last_seq)',
      ),
      messagesOf: db.prepare<[string, number, number, number, number], { seq: number; id: string; sender: string; ts: number; segment: string }>(
        'SELECT seq, id, sender, ts, segment FROM msg_index WHERE conversation = ? AND seq > ? AND ts >= ? AND ts <= ? ORDER BY seq LIMIT ?',
      ),
      putUpload: db.prepare<[UploadRow]>(
        'INSERT OR REPLACE INTO uploads (id, user, device, kind, peer, size, mime, sha256, name, received, created, written) ' +
          'VALUES (@id, @user, @device, @kind, @peer, @size, @mime, @sha256, @name, @received, @created, @written)',
      ),
      getUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      uploads: db.prepare<[], UploadRow>('SELECT * FROM uploads ORDER BY created'),
      uploadsOf: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE user = ? ORDER BY created'),
      setReceived: db.prepare<[number, number, string]>('UPDATE uploads SET received = ?, written = ? WHERE id = ?'),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
      putMedia: db.prepare<[MediaRow]>(
        'INSERT INTO media (hash, size, mime, kind, name, created) VALUES (@hash, @size, @mime, @kind, @name, @created) ON CONFLICT (hash) DO NOTHING',
      ),
      getMedia: db.prepare<[string], MediaRow>('SELECT * FROM media WHERE hash = ?'),
      putUploader: db.prepare<[string, string]>('INSERT OR IGNORE INTO media_uploaders (hash, user) VALUES (?, ?)'),
      mayRead: db.prepare<[{ hash: string; user: string }], { ok: number }>(
        'SELECT EXISTS (SELECT 1 FROM media_uploaders WHERE hash = @hash AND user = @user) ' +
          'OR EXISTS (SELECT 1 FROM media_refs WHERE hash = @hash AND (a = @user OR b = @user)) AS ok',
      ),
      hasUploaded: db.prepare<[string, string], { ok: number }>('SELECT 1 AS ok FROM media_uploaders WHERE hash = ? AND user = ?'),
      // One row per hash the user uploaded (media_uploaders' key), so a hash uploaded twice counts once.
      uploadedBytes: db.prepare<[string], { n: number | null }>(
        'SELECT SUM(media.size) AS n FROM media_uploaders JOIN media ON media.hash = media_uploaders.hash WHERE media_uploaders.user = ?',
      ),
      putRef: db.prepare<[string, string, string]>('INSERT OR IGNORE INTO media_refs (hash, a, b) VALUES (?, ?, ?)'),
      putWaiting: db.prepare<[string, string, string, string]>('INSERT OR IGNORE INTO media_waiting (hash, sender, a, b) VALUES (?, ?, ?, ?)'),
      releaseWaiting: db.prepare<[string, string]>('INSERT OR IGNORE INTO media_refs (hash, a, b) SELECT hash, a, b FROM media_waiting WHERE hash = ? AND sender = ?'),
      dropWaiting: db.prepare<[string, string]>('DELETE FROM media_waiting WHERE hash = ? AND sender = ?'),
      dropRef: db.prepare<[string, string, string]>('DELETE FROM media_refs WHERE hash = ? AND a = ? AND b = ?'),
      dropWaitingRef: db.prepare<[string, string, string]>('DELETE FROM media_waiting WHERE hash = ? AND a = ? AND b = ?'),
      dropEndpoint: db.prepare<[string, string, string]>('DELETE FROM push_subscriptions WHERE endpoint = ? AND NOT (user = ? AND device = ?)'),
      putSubscription: db.prepare<[string, string, string, string, string, number, number]>(
        'INSERT INTO push_subscriptions (user, device, endpoint, p256dh, auth, previews, updated) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (user, device) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, previews = excluded.previews, updated = excluded.updated',
      ),
      deleteSubscription: db.prepare<[string, string]>('DELETE FROM push_subscriptions WHERE user = ? AND device = ?'),
      deleteSubscriptionAt: db.prepare<[string, string, string]>('DELETE FROM push_subscriptions WHERE user = ? AND device = ? AND endpoint = ?'),
      subscriptionsOf: db.prepare<[string], PushSubscriptionRow>('SELECT * FROM push_subscriptions WHERE user = ?'),
      enqueuePush: db.prepare<[string, string, string, string, string, number, number, number]>(
        'INSERT INTO push_queue (user, device, payload, urgency, topic, created, attempts, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      queuedPushes: db.prepare<[], QueuedPush>('SELECT * FROM push_queue ORDER BY id'),
      retryPush: db.prepare<[number, number, number]>('UPDATE push_queue SET attempts = ?, due = ? WHERE id = ?'),
      dropPush: db.prepare<[number]>('DELETE FROM push_queue WHERE id = ?'),
    };
    const s = this.stmt;
    this.commitTx = db.transaction((writes: readonly Write[]) => {
      // A batch may hold many messages of a conversation: one upsert of its last sequence (the latest written).
      const lastSeq = new Map<string, number>();
      /** Per conversation and segment (`conversation\nsegment`): messages added and their sequence range. */
      const segments = new Map<string, { conversation: string; segment: string; count: number; first: number; last: number }>();
      const ids = writes.map((w) => {
        switch (w.kind) {
          case 'update':
            return Number(s.append.run(w.doc, w.data).lastInsertRowid);
          case 'last-seq':
            lastSeq.set(w.conversation, w.seq);
            return 0;
          case 'message':
            s.message.run(w.conversation, w.seq, w.id, w.from, w.ts, w.segment);
            {
              const key = `${w.conversation}\n${w.segment}`;
              const seg = segments.get(key);
              if (seg === undefined) segments.set(key, { conversation: w.conversation, segment: w.segment, count: 1, first: w.seq, last: w.seq });
              else {
                seg.count++;
                seg.first = Math.min(seg.first, w.seq);
                seg.last = Math.max(seg.last, w.seq);
              }
            }
            return 0;
          case 'media-ref': {
            const [a, b] = membersOf(w.conversation);
            if (s.mayRead.get({ hash: w.hash, user: w.from })?.ok === 1) s.putRef.run(w.hash, a, b);
            else s.putWaiting.run(w.hash, w.from, a, b);
            return 0;
          }
          case 'media-unref': {
            const [a, b] = membersOf(w.conversation);
            s.dropRef.run(w.hash, a, b);
            s.dropWaitingRef.run(w.hash, a, b);
            return 0;
          }
        }
      });
      for (const [conversation, seq] of lastSeq) {
        const [a, b] = membersOf(conversation);
        s.setSeq.run(conversation, a, b, seq);
      }
      for (const seg of segments.values()) s.countSegment.run(seg.conversation, seg.segment, seg.count, seg.first, seg.last);
      return ids;
    });
    this.compactTx = db.transaction((doc: string, snapshot: Uint8Array, upto: number) => {
      const current = s.snapshotUpto.get(doc);
      if (current !== undefined && current.upto > upto) return;
      s.putSnapshot.run(doc, deflateRawSync(snapshot), upto, CODEC_DEFLATE);
      s.dropLog.run(doc, upto);
    });
  }

  loadDoc(doc: string): StoredDoc {
    // One read transaction, so the snapshot and the log are from the same commit.
    return this.db.transaction(() => {
      const snap = this.stmt.snapshot.get(doc);
      const upto = snap?.upto ?? 0;
      const updates = this.stmt.log.all(doc, upto).map((r) => ({ id: r.id, data: new Uint8Array(r.data) }));
      const lastId = updates.at(-1)?.id ?? upto;
      const snapshot = snap === undefined ? null : new Uint8Array(snap.codec === CODEC_DEFLATE ? inflateRawSync(snap.data) : snap.data);
      return { snapshot, updates, lastId };
    })();
  }

  commit(writes: readonly Write[]): number[] {
    return this.commitTx(writes);
  }

  /** A write transaction of one row (storage/health.ts): whether the log and the file can take a commit again. */
  probe(): void {
    this.stmt.probe.run(Date.now());
  }

  compact(doc: string, snapshot: Uint8Array, upto: number): void {
    this.compactTx(doc, snapshot, upto);
  }

  /**
   * Compacts the documents in one transaction (freed space is zeroed:
   * secure_delete is on), then checkpoints the write-ahead log into the file
   * and truncates it, so the deleted rows survive neither in the file nor in
   * the log. A reader in the middle of a read holds the checkpoint back for
   * a moment: it is retried briefly.
   */
  erase(docs: readonly DocSnapshot[]): void {
    this.db.transaction(() => {
      for (const d of docs) this.compactTx(d.doc, d.snapshot, d.upto);
    })();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let attempt = 0; attempt < 50; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (result?.busy === 0) return;
      Atomics.wait(pause, 0, 0, 10);
    }
    throw new Error('erase: the write-ahead log could not be checkpointed (a reader held it for 500 ms)');
  }

  segmentsOf(conversation: string): SegmentRow[] {
    return this.stmt.segmentsOf.all(conversation).map((r) => ({ segment: r.segment, count: r.count, firstSeq: r.first_seq, lastSeq: r.last_seq }));
  }

  logLength(doc: string): number {
    return this.stmt.logLength.get(doc)?.n ?? 0;
  }

  lastSeq(conversation: string): number {
    return this.stmt.lastSeq.get(conversation)?.last_seq ?? 0;
  }

  countMessagesAfter(conversation: string, from: string, seq: number): number {
    return this.stmt.countAfter.get(conversation, seq, from)?.n ?? 0;
  }

  peersOf(user: string): string[] {
    return this.stmt.peers.all(user, user, user).map((r) => r.peer);
  }

  createUser(u: UserRecord): boolean {
    return this.stmt.insertUser.run(u.id, u.passwordHash, u.nickname, u.avatar, u.role, u.created, u.id).changes === 1;
  }

  findUser(id: string): UserRecord | undefined {
    const row = this.stmt.findUser.get(id, id);
    return row && toUser(row);
  }

  getUser(id: string): UserRecord | undefined {
    const row = this.stmt.getUser.get(id);
    return row && toUser(row);
  }

  updateUser(id: string, patch: UserPatch): void {
    this.db.transaction(() => {
      if (patch.nickname !== undefined) this.stmt.setNickname.run(patch.nickname, id);
      if (patch.avatar !== undefined) this.stmt.setAvatar.run(patch.avatar, id);
      if (patch.passwordHash !== undefined) this.stmt.setPassword.run(patch.passwordHash, id);
    })();
  }

  sessions(): SessionRecord[] {
    return this.stmt.sessions.all().map(toSession);
  }

  sessionsOf(user: string): SessionRecord[] {
    return this.stmt.sessionsOf.all(user).map(toSession);
  }

  getSession(id: string): SessionRecord | undefined {
    const row = this.stmt.getSession.get(id);
    return row && toSession(row);
  }

  putSession(s: SessionRecord): void {
    this.stmt.putSession.run({ id: s.id, user: s.user, device: s.device, label: s.label, created: s.created, last_used: s.lastUsed, refresh_hash: s.refreshHash });
  }

  rotateSession(id: string, expected: string, next: string, lastUsed: number): boolean {
    return this.stmt.rotateSession.run(next, lastUsed, id, expected).changes === 1;
  }

  touchSession(id: string, lastUsed: number): void {
    this.stmt.touchSession.run(lastUsed, id);
  }

  deleteSessions(ids: readonly string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.deleteSession.run(id);
    })();
  }

  relationsOf(user: string): RelationRow[] {
    return this.stmt.relationsOf.all(user, user).map((r) => ({ ...r, kind: r.kind }));
  }

  changeRelations(changes: readonly RelationChange[]): void {
    this.db.transaction(() => {
      for (const c of changes) {
        if (c.op === 'put') this.stmt.putRelation.run(c.row.owner, c.row.kind, c.row.other, c.row.note, c.row.created);
        else this.stmt.deleteRelation.run(c.owner, c.kind, c.other);
      }
    })();
  }

  settings(): Record<string, unknown> {
    return Object.fromEntries(this.stmt.settings.all().map((r) => [r.key, JSON.parse(r.value) as unknown]));
  }

  putSetting(key: string, value: unknown): void {
    this.stmt.putSetting.run(key, JSON.stringify(value));
  }

  messagesOf(conversation: string, r: { from: number; to: number; afterSeq: number; limit: number }): IndexedMessage[] {
    return this.stmt.messagesOf.all(conversation, r.afterSeq, r.from, r.to, r.limit).map((m) => ({ seq: m.seq, id: m.id, from: m.sender, ts: m.ts, segment: m.segment }));
  }

  putPushSubscription(sub: PushSubscriptionRecord): void {
    this.db.transaction(() => {
      this.stmt.dropEndpoint.run(sub.endpoint, sub.user, sub.device);
      this.stmt.putSubscription.run(sub.user, sub.device, sub.endpoint, sub.p256dh, sub.auth, sub.previews ? 1 : 0, sub.updated);
    })();
  }

  deletePushSubscription(user: string, device: string, endpoint: string | null): boolean {
    const result = endpoint === null ? this.stmt.deleteSubscription.run(user, device) : this.stmt.deleteSubscriptionAt.run(user, device, endpoint);
    return result.changes > 0;
  }

  pushSubscriptionsOf(user: string): PushSubscriptionRecord[] {
    return this.stmt.subscriptionsOf.all(user).map(toSubscription);
  }

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): number[] {
    return this.db.transaction(() =>
      pushes.map((p) => Number(this.stmt.enqueuePush.run(p.user, p.device, p.payload, p.urgency, p.topic, p.created, p.attempts, p.due).lastInsertRowid)),
    )();
  }

  queuedPushes(): QueuedPush[] {
    return this.stmt.queuedPushes.all().map((p) => ({ ...p, urgency: p.urgency === 'high' ? 'high' : 'normal' }));
  }

  retryPush(id: number, attempts: number, due: number): void {
    this.stmt.retryPush.run(attempts, due, id);
  }

  dropPushes(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.dropPush.run(id);
    })();
  }

  putUpload(upload: UploadRecord): void {
    this.stmt.putUpload.run(upload);
  }

  getUpload(id: string): UploadRecord | undefined {
    const row = this.stmt.getUpload.get(id);
    return row && toUpload(row);
  }

  uploads(): UploadRecord[] {
    return this.stmt.uploads.all().map(toUpload);
  }

  uploadsOf(user: string): UploadRecord[] {
    return this.stmt.uploadsOf.all(user).map(toUpload);
  }

  setUploadReceived(id: string, received: number, written: number): void {
    this.stmt.setReceived.run(received, written, id);
  }

  deleteUpload(id: string): void {
    this.stmt.deleteUpload.run(id);
  }

  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): void {
    this.db.transaction(() => {
      this.stmt.putMedia.run(media);
      this.stmt.putUploader.run(media.hash, uploader);
      this.stmt.releaseWaiting.run(media.hash, uploader);
      this.stmt.dropWaiting.run(media.hash, uploader);
      if (uploadId !== null) this.stmt.deleteUpload.run(uploadId);
    })();
  }

  getMedia(hash: string): MediaRecord | undefined {
    const row = this.stmt.getMedia.get(hash);
    return row && toMedia(row);
  }

  mayReadMedia(hash: string, user: string): boolean {
    return this.stmt.mayRead.get({ hash, user })?.ok === 1;
  }

  isAvatar(url: string): boolean {
    return this.stmt.isAvatar.get(url)?.ok === 1;
  }

  hasUploaded(hash: string, user: string): boolean {
    return this.stmt.hasUploaded.get(hash, user)?.ok === 1;
  }

  uploadedBytes(user: string): number {
    return this.stmt.uploadedBytes.get(user)?.n ?? 0;
  }

  /**
   * Gives up to `pages` free pages back to the file system (all when
   * undefined); true when free pages remain. Only files created with
   * auto_vacuum = INCREMENTAL shrink; on others this is a no-op.
   */
  vacuum(pages?: number): boolean {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) return false;
    this.db.pragma(pages === undefined ? 'incremental_vacuum' : `incremental_vacuum(${pages})`);
    return (this.db.pragma('freelist_count', { simple: true }) as number) > 0;
  }

  /** Whether enough of the file is free pages to be worth giving back now (a quarter and at least 8 MB). */
  worthVacuuming(): boolean {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    const page = this.db.pragma('page_size', { simple: true }) as number;
    return free * page >= 8 * 1024 * 1024 && free * 4 >= total;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
