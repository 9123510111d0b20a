/**
 * SQLite storage (better-sqlite3, WAL). `synchronous=FULL` because an `ack`
 * promises the write survives a crash or power loss; WAL keeps that cheap and
 * lets readers run beside the writer. better-sqlite3 is synchronous, so every
 * method completes before it returns its (already settled) promise.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { membersOf, type Storage, type StoredDoc, type UserRecord, type Write } from './storage.ts';

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
  upto INTEGER NOT NULL
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
);
CREATE INDEX IF NOT EXISTS msg_index_sender ON msg_index (conversation, sender, seq);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  password_hash TEXT,
  nickname TEXT NOT NULL,
  avatar TEXT,
  role TEXT NOT NULL DEFAULT 'user',
  created INTEGER NOT NULL
);
`;

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

export class SqliteStorage implements Storage {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly commitTx: (writes: readonly Write[]) => number[];
  private readonly compactTx: (doc: string, snapshot: Uint8Array, upto: number) => void;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      snapshot: db.prepare<[string], { data: Buffer; upto: number }>('SELECT data, upto FROM snapshots WHERE doc = ?'),
      log: db.prepare<[string, number], { id: number; data: Buffer }>('SELECT id, data FROM updates WHERE doc = ? AND id > ? ORDER BY id'),
      logLength: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM updates WHERE doc = ?'),
      append: db.prepare<[string, Uint8Array]>('INSERT INTO updates (doc, data) VALUES (?, ?)'),
      lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM conversations WHERE id = ?'),
      setSeq: db.prepare<[string, string, string, number]>(
        'INSERT INTO conversations (id, a, b, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq',
      ),
      message: db.prepare<[string, number, string, string, number, string]>(
        'INSERT INTO msg_index (conversation, seq, id, sender, ts, segment) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      countAfter: db.prepare<[string, string, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM msg_index WHERE conversation = ? AND sender = ? AND seq > ?',
      ),
      peers: db.prepare<[string, string, string], { peer: string }>(
        'SELECT CASE WHEN a = ? THEN b ELSE a END AS peer FROM conversations WHERE a = ? OR b = ?',
      ),
      putSnapshot: db.prepare<[string, Uint8Array, number]>(
        'INSERT INTO snapshots (doc, data, upto) VALUES (?, ?, ?) ON CONFLICT (doc) DO UPDATE SET data = excluded.data, upto = excluded.upto',
      ),
      dropLog: db.prepare<[string, number]>('DELETE FROM updates WHERE doc = ? AND id <= ?'),
      insertUser: db.prepare<[string, string | null, string, string | null, string, number]>(
        'INSERT INTO users (id, password_hash, nickname, avatar, role, created) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      setNickname: db.prepare<[string, string]>('UPDATE users SET nickname = ? WHERE id = ?'),
      setAvatar: db.prepare<[string, string]>('UPDATE users SET avatar = ? WHERE id = ?'),
    };
    const s = this.stmt;
    this.commitTx = db.transaction((writes: readonly Write[]) =>
      writes.map((w) => {
        switch (w.kind) {
          case 'update':
            return Number(s.append.run(w.doc, w.data).lastInsertRowid);
          case 'last-seq': {
            const [a, b] = membersOf(w.conversation);
            s.setSeq.run(w.conversation, a, b, w.seq);
            return 0;
          }
          case 'message':
            s.message.run(w.conversation, w.seq, w.id, w.from, w.ts, w.segment);
            return 0;
        }
      }),
    );
    this.compactTx = db.transaction((doc: string, snapshot: Uint8Array, upto: number) => {
      const current = s.snapshot.get(doc);
      if (current !== undefined && current.upto > upto) return;
      s.putSnapshot.run(doc, snapshot, upto);
      s.dropLog.run(doc, upto);
    });
  }

  loadDoc(doc: string): Promise<StoredDoc> {
    const snap = this.stmt.snapshot.get(doc);
    const upto = snap?.upto ?? 0;
    const updates = this.stmt.log.all(doc, upto).map((r) => ({ id: r.id, data: new Uint8Array(r.data) }));
    const lastId = updates.at(-1)?.id ?? upto;
    return Promise.resolve({ snapshot: snap ? new Uint8Array(snap.data) : null, updates, lastId });
  }

  commit(writes: readonly Write[]): Promise<number[]> {
    return Promise.resolve(this.commitTx(writes));
  }

  compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void> {
    this.compactTx(doc, snapshot, upto);
    return Promise.resolve();
  }

  logLength(doc: string): Promise<number> {
    return Promise.resolve(this.stmt.logLength.get(doc)?.n ?? 0);
  }

  lastSeq(conversation: string): Promise<number> {
    return Promise.resolve(this.stmt.lastSeq.get(conversation)?.last_seq ?? 0);
  }

  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number> {
    return Promise.resolve(this.stmt.countAfter.get(conversation, from, seq)?.n ?? 0);
  }

  peersOf(user: string): Promise<string[]> {
    return Promise.resolve(this.stmt.peers.all(user, user, user).map((r) => r.peer));
  }

  createUser(u: UserRecord): Promise<boolean> {
    const result = this.stmt.insertUser.run(u.id, u.passwordHash, u.nickname, u.avatar, u.role, u.created);
    return Promise.resolve(result.changes === 1);
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.stmt.getUser.get(id);
    return Promise.resolve(row && toUser(row));
  }

  async updateUser(id: string, patch: { nickname?: string | undefined; avatar?: string | undefined }): Promise<UserRecord | undefined> {
    if (patch.nickname !== undefined) this.stmt.setNickname.run(patch.nickname, id);
    if (patch.avatar !== undefined) this.stmt.setAvatar.run(patch.avatar, id);
    return this.getUser(id);
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
