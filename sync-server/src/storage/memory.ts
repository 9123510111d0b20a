/** The in-memory twin of the SQLite storage, for unit tests. Same contract, no durability. */
import { userIdKey } from '@parley/protocol';
import {
  membersOf,
  type IndexedMessage,
  type MediaRecord,
  type PushSubscriptionRecord,
  type QueuedPush,
  type RelationChange,
  type RelationRow,
  type DocSnapshot,
  type SegmentRow,
  type SessionRecord,
  type Storage,
  type StoredDoc,
  type UploadRecord,
  type UserPatch,
  type UserRecord,
  type Write,
} from './storage.ts';

interface MessageRow extends IndexedMessage {
  conversation: string;
}

export class MemoryStorage implements Storage {
  private nextId = 1;
  private readonly logs = new Map<string, { id: number; data: Uint8Array }[]>();
  private readonly snapshots = new Map<string, { data: Uint8Array; upto: number }>();
  private readonly seqs = new Map<string, number>();
  private readonly messages: MessageRow[] = [];
  private readonly users = new Map<string, UserRecord>();
  /** userIdKey(id) → id: ids are unique regardless of case. */
  private readonly userIds = new Map<string, string>();
  private readonly sessionRows = new Map<string, SessionRecord>();
  private relations: RelationRow[] = [];
  private readonly settingValues = new Map<string, unknown>();
  private pushSubscriptions: PushSubscriptionRecord[] = [];
  private readonly pushQueue = new Map<number, QueuedPush>();
  private nextPushId = 1;
  private readonly uploadRows = new Map<string, UploadRecord>();
  private readonly media = new Map<string, MediaRecord>();
  /** `hash|user` of each uploader. */
  private readonly uploaders = new Set<string>();
  /** Conversations (`a/b`) with a message that references each hash. */
  private readonly mediaRefs = new Map<string, Set<string>>();
  /** `hash|sender` -> conversations whose reference waits for the sender's upload. */
  private readonly mediaWaiting = new Map<string, Set<string>>();

  loadDoc(doc: string): Promise<StoredDoc> {
    const snapshot = this.snapshots.get(doc);
    const updates = (this.logs.get(doc) ?? []).filter((u) => u.id > (snapshot?.upto ?? 0)).map((u) => ({ ...u }));
    const lastId = Math.max(snapshot?.upto ?? 0, ...updates.map((u) => u.id));
    return Promise.resolve({ snapshot: snapshot?.data ?? null, updates, lastId });
  }

  /** While set, `commit` and `probe` fail with it (for the tests of a failing disk); nothing of a failed commit is kept. */
  failWith: Error | null = null;

  probe(): Promise<void> {
    return this.failWith === null ? Promise.resolve() : Promise.reject(this.failWith);
  }

  commit(writes: readonly Write[]): Promise<number[]> {
    if (this.failWith !== null) return Promise.reject(this.failWith);
    const ids = writes.map((w) => {
      switch (w.kind) {
        case 'update': {
          const id = this.nextId++;
          const log = this.logs.get(w.doc) ?? [];
          log.push({ id, data: w.data });
          this.logs.set(w.doc, log);
          return id;
        }
        case 'last-seq':
          this.seqs.set(w.conversation, w.seq);
          return 0;
        case 'message':
          this.messages.push({ conversation: w.conversation, seq: w.seq, id: w.id, from: w.from, ts: w.ts, segment: w.segment });
          return 0;
        case 'media-ref': {
          if (this.mayRead(w.hash, w.from)) this.addRef(w.hash, w.conversation);
          else {
            const key = `${w.hash}|${w.from}`;
            this.mediaWaiting.set(key, (this.mediaWaiting.get(key) ?? new Set()).add(w.conversation));
          }
          return 0;
        }
        case 'media-unref': {
          this.mediaRefs.get(w.hash)?.delete(w.conversation);
          for (const [key, conversations] of this.mediaWaiting) if (key.startsWith(`${w.hash}|`)) conversations.delete(w.conversation);
          return 0;
        }
      }
    });
    return Promise.resolve(ids);
  }

  compact(doc: string, snapshot: Uint8Array, upto: number): Promise<void> {
    const current = this.snapshots.get(doc);
    if (current === undefined || current.upto <= upto) {
      this.snapshots.set(doc, { data: snapshot, upto });
      this.logs.set(doc, (this.logs.get(doc) ?? []).filter((u) => u.id > upto));
    }
    return Promise.resolve();
  }

  async erase(docs: readonly DocSnapshot[]): Promise<void> {
    for (const d of docs) await this.compact(d.doc, d.snapshot, d.upto);
  }

  segmentsOf(conversation: string): Promise<SegmentRow[]> {
    const bySegment = new Map<string, SegmentRow>();
    for (const m of this.messages) {
      if (m.conversation !== conversation) continue;
      const row = bySegment.get(m.segment);
      if (row === undefined) bySegment.set(m.segment, { segment: m.segment, count: 1, firstSeq: m.seq, lastSeq: m.seq });
      else {
        row.count++;
        row.firstSeq = Math.min(row.firstSeq, m.seq);
        row.lastSeq = Math.max(row.lastSeq, m.seq);
      }
    }
    return Promise.resolve([...bySegment.values()].sort((x, y) => (x.segment < y.segment ? -1 : x.segment > y.segment ? 1 : 0)));
  }

  logLength(doc: string): Promise<number> {
    return Promise.resolve(this.logs.get(doc)?.length ?? 0);
  }

  lastSeq(conversation: string): Promise<number> {
    return Promise.resolve(this.seqs.get(conversation) ?? 0);
  }

  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number> {
    return Promise.resolve(this.messages.filter((m) => m.conversation === conversation && m.from === from && m.seq > seq).length);
  }

  peersOf(user: string): Promise<string[]> {
    const peers = [...this.seqs.keys()].map(membersOf).filter(([a, b]) => a === user || b === user);
    return Promise.resolve(peers.map(([a, b]) => (a === user ? b : a)));
  }

  createUser(user: UserRecord): Promise<boolean> {
    const key = userIdKey(user.id);
    if (this.userIds.has(key)) return Promise.resolve(false);
    this.users.set(user.id, { ...user });
    this.userIds.set(key, user.id);
    return Promise.resolve(true);
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    return Promise.resolve(user && { ...user });
  }

  findUser(id: string): Promise<UserRecord | undefined> {
    return this.getUser(this.userIds.get(userIdKey(id)) ?? id);
  }

  updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    if (user === undefined) return Promise.resolve(undefined);
    if (patch.nickname !== undefined) user.nickname = patch.nickname;
    if (patch.avatar !== undefined) user.avatar = patch.avatar;
    if (patch.passwordHash !== undefined) user.passwordHash = patch.passwordHash;
    return Promise.resolve({ ...user });
  }

  sessions(): Promise<SessionRecord[]> {
    return Promise.resolve([...this.sessionRows.values()].map((s) => ({ ...s })));
  }

  sessionsOf(user: string): Promise<SessionRecord[]> {
    const rows = [...this.sessionRows.values()].filter((s) => s.user === user).sort((a, b) => a.created - b.created);
    return Promise.resolve(rows.map((s) => ({ ...s })));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.sessionRows.get(id);
    return Promise.resolve(row && { ...row });
  }

  putSession(session: SessionRecord): Promise<void> {
    this.sessionRows.set(session.id, { ...session });
    return Promise.resolve();
  }

  rotateSession(id: string, expected: string, next: string, lastUsed: number): Promise<boolean> {
    const row = this.sessionRows.get(id);
    if (row?.refreshHash !== expected) return Promise.resolve(false);
    row.refreshHash = next;
    row.lastUsed = lastUsed;
    return Promise.resolve(true);
  }

  touchSession(id: string, lastUsed: number): Promise<void> {
    const row = this.sessionRows.get(id);
    if (row !== undefined) row.lastUsed = Math.max(row.lastUsed, lastUsed);
    return Promise.resolve();
  }

  deleteSessions(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.sessionRows.delete(id);
    return Promise.resolve();
  }

  relationsOf(user: string): Promise<RelationRow[]> {
    const own = this.relations.filter((r) => r.owner === user);
    const asked = this.relations.filter((r) => r.other === user && r.kind === 'request');
    return Promise.resolve([...own, ...asked].map((r) => ({ ...r })));
  }

  changeRelations(changes: readonly RelationChange[]): Promise<void> {
    for (const c of changes) {
      const key = c.op === 'put' ? c.row : c;
      this.relations = this.relations.filter((r) => !(r.owner === key.owner && r.kind === key.kind && r.other === key.other));
      if (c.op === 'put') this.relations.push({ ...c.row });
    }
    return Promise.resolve();
  }

  settings(): Promise<Record<string, unknown>> {
    return Promise.resolve(Object.fromEntries(this.settingValues));
  }

  putSetting(key: string, value: unknown): Promise<void> {
    this.settingValues.set(key, structuredClone(value));
    return Promise.resolve();
  }

  messagesOf(conversation: string, r: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]> {
    const rows = this.messages
      .filter((m) => m.conversation === conversation && m.seq > r.afterSeq && m.ts >= r.from && m.ts <= r.to)
      .sort((x, y) => x.seq - y.seq)
      .slice(0, r.limit);
    return Promise.resolve(rows.map(({ seq, id, from, ts, segment }) => ({ seq, id, from, ts, segment })));
  }

  putPushSubscription(sub: PushSubscriptionRecord): Promise<void> {
    this.pushSubscriptions = this.pushSubscriptions.filter((s) => !(s.user === sub.user && s.device === sub.device) && s.endpoint !== sub.endpoint);
    this.pushSubscriptions.push({ ...sub });
    return Promise.resolve();
  }

  deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean> {
    const before = this.pushSubscriptions.length;
    this.pushSubscriptions = this.pushSubscriptions.filter((s) => !(s.user === user && s.device === device && (endpoint === undefined || s.endpoint === endpoint)));
    return Promise.resolve(this.pushSubscriptions.length < before);
  }

  pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]> {
    return Promise.resolve(this.pushSubscriptions.filter((s) => s.user === user).map((s) => ({ ...s })));
  }

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): Promise<number[]> {
    return Promise.resolve(
      pushes.map((p) => {
        const id = this.nextPushId++;
        this.pushQueue.set(id, { ...p, id });
        return id;
      }),
    );
  }

  queuedPushes(): Promise<QueuedPush[]> {
    return Promise.resolve([...this.pushQueue.values()].sort((x, y) => x.id - y.id).map((p) => ({ ...p })));
  }

  retryPush(id: number, attempts: number, due: number): Promise<void> {
    const push = this.pushQueue.get(id);
    if (push !== undefined) this.pushQueue.set(id, { ...push, attempts, due });
    return Promise.resolve();
  }

  dropPushes(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.pushQueue.delete(id);
    return Promise.resolve();
  }

  putUpload(upload: UploadRecord): Promise<void> {
    this.uploadRows.set(upload.id, { ...upload });
    return Promise.resolve();
  }

  getUpload(id: string): Promise<UploadRecord | undefined> {
    const upload = this.uploadRows.get(id);
    return Promise.resolve(upload && { ...upload });
  }

  uploads(): Promise<UploadRecord[]> {
    return Promise.resolve([...this.uploadRows.values()].sort((x, y) => x.created - y.created).map((u) => ({ ...u })));
  }

  uploadsOf(user: string): Promise<UploadRecord[]> {
    return this.uploads().then((all) => all.filter((u) => u.user === user));
  }

  setUploadReceived(id: string, received: number, written: number): Promise<void> {
    const upload = this.uploadRows.get(id);
    if (upload !== undefined) Object.assign(upload, { received, written });
    return Promise.resolve();
  }

  deleteUpload(id: string): Promise<void> {
    this.uploadRows.delete(id);
    return Promise.resolve();
  }

  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void> {
    if (!this.media.has(media.hash)) this.media.set(media.hash, { ...media });
    this.uploaders.add(`${media.hash}|${uploader}`);
    const key = `${media.hash}|${uploader}`;
    for (const conversation of this.mediaWaiting.get(key) ?? []) this.addRef(media.hash, conversation);
    this.mediaWaiting.delete(key);
    if (uploadId !== null) this.uploadRows.delete(uploadId);
    return Promise.resolve();
  }

  getMedia(hash: string): Promise<MediaRecord | undefined> {
    const media = this.media.get(hash);
    return Promise.resolve(media && { ...media });
  }

  mayReadMedia(hash: string, user: string): Promise<boolean> {
    return Promise.resolve(this.mayRead(hash, user));
  }

  isAvatar(url: string): Promise<boolean> {
    return Promise.resolve([...this.users.values()].some((u) => u.avatar === url));
  }

  hasUploaded(hash: string, user: string): Promise<boolean> {
    return Promise.resolve(this.uploaders.has(`${hash}|${user}`));
  }

  uploadedBytes(user: string): Promise<number> {
    let bytes = 0;
    for (const key of this.uploaders) {
      const [hash = '', uploader] = key.split('|');
      if (uploader === user) bytes += this.media.get(hash)?.size ?? 0;
    }
    return Promise.resolve(bytes);
  }

  private mayRead(hash: string, user: string): boolean {
    if (this.uploaders.has(`${hash}|${user}`)) return true;
    for (const conversation of this.mediaRefs.get(hash) ?? []) if (membersOf(conversation).includes(user)) return true;
    return false;
  }

  private addRef(hash: string, conversation: string): void {
    this.mediaRefs.set(hash, (this.mediaRefs.get(hash) ?? new Set()).add(conversation));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
