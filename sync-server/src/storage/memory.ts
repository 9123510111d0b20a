/** The in-memory twin of the SQLite storage, for unit tests. Same contract, no durability. */
import { membersOf, type Storage, type StoredDoc, type UserRecord, type Write } from './storage.ts';

interface MessageRow {
  conversation: string;
  seq: number;
  from: string;
}

export class MemoryStorage implements Storage {
  private nextId = 1;
  private readonly logs = new Map<string, { id: number; data: Uint8Array }[]>();
  private readonly snapshots = new Map<string, { data: Uint8Array; upto: number }>();
  private readonly seqs = new Map<string, number>();
  private readonly messages: MessageRow[] = [];
  private readonly users = new Map<string, UserRecord>();

  loadDoc(doc: string): Promise<StoredDoc> {
    const snapshot = this.snapshots.get(doc);
    const updates = (this.logs.get(doc) ?? []).filter((u) => u.id > (snapshot?.upto ?? 0)).map((u) => ({ ...u }));
    const lastId = Math.max(snapshot?.upto ?? 0, ...updates.map((u) => u.id));
    return Promise.resolve({ snapshot: snapshot?.data ?? null, updates, lastId });
  }

  commit(writes: readonly Write[]): Promise<number[]> {
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
          this.messages.push({ conversation: w.conversation, seq: w.seq, from: w.from });
          return 0;
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
    if (this.users.has(user.id)) return Promise.resolve(false);
    this.users.set(user.id, { ...user });
    return Promise.resolve(true);
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    return Promise.resolve(user && { ...user });
  }

  updateUser(id: string, patch: { nickname?: string | undefined; avatar?: string | undefined }): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    if (user === undefined) return Promise.resolve(undefined);
    if (patch.nickname !== undefined) user.nickname = patch.nickname;
    if (patch.avatar !== undefined) user.avatar = patch.avatar;
    return Promise.resolve({ ...user });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
