/**
 * SQLite storage (better-sqlite3, WAL, `synchronous=FULL`, because an `ack`
 * promises the write survives a crash or power loss).
 *
 * Writes go to a worker thread that owns the writing connection
 * (sqlite-worker.ts): better-sqlite3 is synchronous, and on the event loop
 * every commit's fsync would stall validation, broadcasts and acks. A write's
 * promise settles once the worker reports its transaction durable.
 *
 * Reads run here, synchronously, on a second connection: WAL readers see the
 * last committed state without waiting for a commit in progress, and every
 * read the server makes is a few rows by key. A read after a write's promise
 * settled sees that write.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { dataDirId, openDatabase, SqliteDb, userIdClashes, type UserPatch } from './sqlite-db.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './sqlite-worker.ts';
import type {
  DocSnapshot,
  IndexedMessage,
  MediaRecord,
  SegmentRow,
  PushSubscriptionRecord,
  QueuedPush,
  RelationChange,
  RelationRow,
  SessionRecord,
  Storage,
  StoredDoc,
  UploadRecord,
  UserRecord,
  Write,
} from './storage.ts';
import { encodeWrites } from './write-codec.ts';

/** A request without its id, as `call` takes it. */
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export class SqliteStorage implements Storage {
  private readonly reader: SqliteDb;
  private readonly worker: Worker;
  private readonly replies: MessagePort;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Set once the worker is gone (closed or crashed): every later call fails with it. */
  private gone: Error | null = null;
  private closing: Promise<void> | null = null;
  private readonly exited: Promise<void>;

  constructor(file: string) {
    // Created here, synchronously, so that a bad path fails at start and the
    // worker opens a file that already has its tables.
    this.reader = new SqliteDb(openDatabase(file));
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    this.worker = new Worker(new URL('./sqlite-worker.mjs', import.meta.url), {
      workerData: { file, replies: port2 } satisfies WorkerData,
      transferList: [port2],
    });
    // Only a request in flight keeps the process alive (see call).
    this.worker.unref();
    this.replies.on('message', (reply: WorkerReply) => this.settle(reply));
    this.replies.unref();
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        // The worker's last replies (the one to `close`) travel on another
        // port than its exit, and may not have been taken yet: take them
        // first, or a clean close fails as if the worker had died.
        this.poll();
        this.fail(new Error(`the storage worker exited (code ${code})`));
        resolve();
      }),
    );
  }

  /**
   * Opens the file and resolves once the worker is ready, so that the first
   * commit does not wait for the thread to start (a server should call this
   * before it listens; the constructor alone works too, lazily).
   */
  static async open(file: string): Promise<SqliteStorage> {
    const storage = new SqliteStorage(file);
    await storage.call({ op: 'ping' });
    return storage;
  }

  loadDoc(doc: string): Promise<StoredDoc> {
    return this.read(() => this.reader.loadDoc(doc));
  }

  async commit(writes: readonly Write[]): Promise<number[]> {
    const bytes = encodeWrites(writes);
    // encodeWrites allocates a buffer of its own: hand it over instead of copying it.
    const ids = (await this.call({ op: 'commit', writes: bytes }, [bytes.buffer as ArrayBuffer])) as Float64Array;
    return Array.from(ids);
  }

  async probe(): Promise<void> {
    await this.call({ op: 'probe' });
  }

  async compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void> {
    await this.call({ op: 'compact', doc, snapshot, upto });
  }

  async erase(docs: readonly DocSnapshot[]): Promise<void> {
    await this.call({ op: 'erase', docs });
  }

  segmentsOf(conversation: string): Promise<SegmentRow[]> {
    return this.read(() => this.reader.segmentsOf(conversation));
  }

  logLength(doc: string): Promise<number> {
    return this.read(() => this.reader.logLength(doc));
  }

  lastSeq(conversation: string): Promise<number> {
    return this.read(() => this.reader.lastSeq(conversation));
  }

  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number> {
    return this.read(() => this.reader.countMessagesAfter(conversation, from, seq));
  }

  peersOf(user: string): Promise<string[]> {
    return this.read(() => this.reader.peersOf(user));
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.call({ op: 'create-user', user }) as Promise<boolean>;
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    return this.read(() => this.reader.getUser(id));
  }

  findUser(id: string): Promise<UserRecord | undefined> {
    return this.read(() => this.reader.findUser(id));
  }

  /** The id this database shares with its data dir's marker (data-dir.ts). */
  dataDirId(): string {
    return dataDirId(this.reader.db);
  }

  /** Groups of user ids that differ only in case, left by a database from before ids were unique regardless of case. */
  userIdClashes(): string[][] {
    return userIdClashes(this.reader.db);
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    await this.call({ op: 'update-user', user: id, patch });
    return this.getUser(id);
  }

  sessions(): Promise<SessionRecord[]> {
    return this.read(() => this.reader.sessions());
  }

  sessionsOf(user: string): Promise<SessionRecord[]> {
    return this.read(() => this.reader.sessionsOf(user));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.read(() => this.reader.getSession(id));
  }

  async putSession(session: SessionRecord): Promise<void> {
    await this.call({ op: 'session-put', session });
  }

  rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean> {
    return this.call({ op: 'session-rotate', session: id, expected, next, lastUsed }) as Promise<boolean>;
  }

  async touchSession(id: string, lastUsed: number): Promise<void> {
    await this.call({ op: 'session-touch', session: id, lastUsed });
  }

  async deleteSessions(ids: readonly string[]): Promise<void> {
    await this.call({ op: 'session-delete', sessions: ids });
  }

  relationsOf(user: string): Promise<RelationRow[]> {
    return this.read(() => this.reader.relationsOf(user));
  }

  async changeRelations(changes: readonly RelationChange[]): Promise<void> {
    await this.call({ op: 'relations', changes });
  }

  settings(): Promise<Record<string, unknown>> {
    return this.read(() => this.reader.settings());
  }

  async putSetting(key: string, value: unknown): Promise<void> {
    await this.call({ op: 'setting', key, value });
  }

  messagesOf(conversation: string, range: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]> {
    return this.read(() => this.reader.messagesOf(conversation, range));
  }

  async putPushSubscription(subscription: PushSubscriptionRecord): Promise<void> {
    await this.call({ op: 'push-subscribe', subscription });
  }

  deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean> {
    return this.call({ op: 'push-unsubscribe', user, device, endpoint: endpoint ?? null }) as Promise<boolean>;
  }

  pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]> {
    return this.read(() => this.reader.pushSubscriptionsOf(user));
  }

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): Promise<number[]> {
    return this.call({ op: 'push-enqueue', pushes }) as Promise<number[]>;
  }

  queuedPushes(): Promise<QueuedPush[]> {
    return this.read(() => this.reader.queuedPushes());
  }

  async retryPush(id: number, attempts: number, due: number): Promise<void> {
    await this.call({ op: 'push-retry', push: id, attempts, due });
  }

  async dropPushes(ids: readonly number[]): Promise<void> {
    await this.call({ op: 'push-drop', pushes: ids });
  }

  async putUpload(upload: UploadRecord): Promise<void> {
    await this.call({ op: 'upload-put', upload });
  }

  getUpload(id: string): Promise<UploadRecord | undefined> {
    return this.read(() => this.reader.getUpload(id));
  }

  uploads(): Promise<UploadRecord[]> {
    return this.read(() => this.reader.uploads());
  }

  uploadsOf(user: string): Promise<UploadRecord[]> {
    return this.read(() => this.reader.uploadsOf(user));
  }

  async setUploadReceived(id: string, received: number, written: number): Promise<void> {
    await this.call({ op: 'upload-received', upload: id, received, written });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.call({ op: 'upload-delete', upload: id });
  }

  async addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void> {
    await this.call({ op: 'media-add', media, uploader, upload: uploadId });
  }

  getMedia(hash: string): Promise<MediaRecord | undefined> {
    return this.read(() => this.reader.getMedia(hash));
  }

  mayReadMedia(hash: string, user: string): Promise<boolean> {
    return this.read(() => this.reader.mayReadMedia(hash, user));
  }

  isAvatar(url: string): Promise<boolean> {
    return this.read(() => this.reader.isAvatar(url));
  }

  hasUploaded(hash: string, user: string): Promise<boolean> {
    return this.read(() => this.reader.hasUploaded(hash, user));
  }

  uploadedBytes(user: string): Promise<number> {
    return this.read(() => this.reader.uploadedBytes(user));
  }

  /** Waits for every request sent so far, gives free pages back, closes both connections and ends the worker. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      // The reader first, so that the writer is the last connection and its close checkpoints and removes the WAL.
      this.reader.close();
      if (this.gone === null) await this.call({ op: 'close' });
      await this.exited;
      this.replies.close();
    })());
  }

  /**
   * Takes the worker's finished replies now. Under load the event loop spends
   * long turns reading sockets, and a reply event waits for its turn; the
   * group commit calls this for every write, so commits are acknowledged (and
   * the next batch sent) as soon as they finish.
   */
  poll(): void {
    if (this.waiting.size === 0) return;
    for (let m = receiveMessageOnPort(this.replies); m !== undefined; m = receiveMessageOnPort(this.replies)) this.settle(m.message as WorkerReply);
  }

  private read<T>(query: () => T): Promise<T> {
    if (this.closing !== null) return Promise.reject(new Error('storage is closed'));
    try {
      return Promise.resolve(query());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.gone !== null) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.replies.ref();
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  private settle(reply: WorkerReply): void {
    const waiter = this.waiting.get(reply.id);
    if (waiter === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.replies.unref();
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(Object.assign(new Error(reply.message), { stack: reply.stack, code: reply.code }));
  }

  private fail(error: Error): void {
    this.gone ??= error;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
