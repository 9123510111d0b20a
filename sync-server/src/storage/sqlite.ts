/**
 * SQLite storage (better-sqlite3, WAL, `synchronous=FULL`, because an `ack`
 * promises the write survives a crash or power loss): the stores of sqlite/,
 * composed.
 *
 * Writes go to a worker thread that owns the writing connection
 * (sqlite-worker.ts), through one call path (store, method, arguments):
 * better-sqlite3 is synchronous, and on the event loop every commit's fsync
 * would stall validation, broadcasts and acks. A write's promise settles once
 * the worker reports its transaction durable.
 *
 * Reads (`READS`) run here, synchronously, on a second connection: WAL
 * readers see the last committed state without waiting for a commit in
 * progress, and every read the server makes is a few rows by key. A read
 * after a write's promise settled sees that write.
 */
import type Database from 'better-sqlite3';
import { dataDirId, openDatabase, userIdClashes } from './sqlite-db.ts';
import { methodOf, routedStores, settled, sqliteStores, type AnyMethod, type SqliteStores } from './sqlite/stores.ts';
import { WorkerLink } from './sqlite/worker-link.ts';
import { ComposedStorage, type Storage, type StoreName, type StoreSet, type Write } from './storage.ts';
import { encodeWrites } from './write-codec.ts';

/** The methods that run on this thread's reader connection; every other one is a write, run by the worker. */
const READS: { [S in StoreName]: readonly (keyof StoreSet[S])[] } = {
  docs: ['loadDoc', 'logLength', 'leaderOf'],
  messages: ['lastSeq', 'countMessagesAfter', 'peersOf', 'segmentsOf', 'messagesOf'],
  users: ['getUser', 'findUser', 'isAvatar', 'searchUsers'],
  sessions: ['sessions', 'sessionsOf', 'getSession'],
  social: ['relationsOf', 'settings', 'inviteByHash', 'invitesOf'],
  push: ['pushSubscriptionsOf', 'queuedPushes'],
  callbacks: ['queuedCallbacks', 'nextCallbackDue'],
  media: ['getUpload', 'uploads', 'uploadsOf', 'getMedia', 'mayReadMedia', 'hasUploaded', 'uploadedBytes'],
};

export class SqliteStorage extends ComposedStorage implements Storage {
  private readonly reader: Database.Database;
  private readonly link: WorkerLink;
  private closing: Promise<void> | null = null;

  constructor(file: string) {
    // Created here, synchronously, so that a bad path fails at start and the
    // worker opens a file that already has its tables.
    const reader = openDatabase(file);
    const link = new WorkerLink(file);
    super(routedStores(routes(reader, sqliteStores(reader), link)));
    this.reader = reader;
    this.link = link;
  }

  /**
   * Opens the file and resolves once the worker is ready, so that the first
   * commit does not wait for the thread to start (a server should call this
   * before it listens; the constructor alone works too, lazily).
   */
  static async open(file: string): Promise<SqliteStorage> {
    const storage = new SqliteStorage(file);
    await storage.link.call('worker', 'ping', []);
    return storage;
  }

  /** The id this database shares with its data dir's marker (data-dir.ts). */
  dataDirId(): string {
    return dataDirId(this.reader);
  }

  /** Groups of user ids that differ only in case, left by a database from before ids were unique regardless of case. */
  userIdClashes(): string[][] {
    return userIdClashes(this.reader);
  }

  /** Waits for every request sent so far, gives free pages back, closes both connections and ends the worker. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      // The reader first, so that the writer is the last connection and its close checkpoints and removes the WAL.
      this.reader.close();
      if (this.link.alive) await this.link.call('worker', 'close', []);
      await this.link.exited;
    })());
  }

  /** Settles the writes the worker has finished, now (see WorkerLink.poll). */
  poll(): void {
    this.link.poll();
  }
}

/** Where each method runs: `READS` on the reader's stores, `commit` encoded, every other write by name in the worker. */
function routes(reader: Database.Database, reads: SqliteStores, link: WorkerLink): (store: StoreName, method: string) => AnyMethod {
  return (store, method) => {
    if (store === 'docs' && method === 'commit') return (writes) => commit(link, writes as readonly Write[]);
    if (!(READS[store] as readonly string[]).includes(method)) return (...args) => link.post(store, method, args);
    const read = methodOf(reads, store, method);
    return (...args) => (reader.open ? settled(() => read(...args)) : Promise.reject(new Error('storage is closed')));
  };
}

/** One buffer for the whole batch (write-codec.ts), handed over to the worker instead of copied; the ids come back as one typed array. */
async function commit(link: WorkerLink, writes: readonly Write[]): Promise<number[]> {
  const bytes = encodeWrites(writes);
  return Array.from(await link.call('docs', 'commitEncoded', [bytes], [bytes.buffer as ArrayBuffer]));
}
