/** Documents and their log, in memory. One process is the only writer: `fence` writes are ignored. */
import type { CommitPart, DocLeader, DocSnapshot, DocStore, StoredDoc, Write } from '../stores/docs.ts';

export class MemoryDocs implements DocStore {
  /** While set, `commit` and `probe` fail with it (for the tests of a failing disk); nothing of a failed commit is kept. */
  failWith: Error | null = null;
  private nextId = 1;
  private readonly logs = new Map<string, { id: number; data: Uint8Array }[]>();
  private readonly snapshots = new Map<string, { data: Uint8Array; upto: number }>();
  private readonly leaders = new Map<string, DocLeader>();

  /** `parts`: the stores that own the writes other than `update` (see CommitPart). */
  constructor(private readonly parts: readonly CommitPart[]) {}

  loadDoc(doc: string): Promise<StoredDoc> {
    const snapshot = this.snapshots.get(doc);
    const updates = (this.logs.get(doc) ?? []).filter((u) => u.id > (snapshot?.upto ?? 0)).map((u) => ({ ...u }));
    const lastId = Math.max(snapshot?.upto ?? 0, ...updates.map((u) => u.id));
    return Promise.resolve({ snapshot: snapshot?.data ?? null, updates, lastId });
  }

  probe(): Promise<void> {
    return this.failWith === null ? Promise.resolve() : Promise.reject(this.failWith);
  }

  commit(writes: readonly Write[]): Promise<number[]> {
    if (this.failWith !== null) return Promise.reject(this.failWith);
    const ids = writes.map((w) => (w.kind === 'update' ? this.append(w.doc, w.data) : 0));
    for (const part of this.parts) part.record(writes);
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

  logLength(doc: string): Promise<number> {
    return Promise.resolve(this.logs.get(doc)?.length ?? 0);
  }

  lead(doc: string, node: string): Promise<number> {
    const token = (this.leaders.get(doc)?.token ?? 0) + 1;
    this.leaders.set(doc, { node, token });
    return Promise.resolve(token);
  }

  leaderOf(doc: string): Promise<DocLeader | null> {
    const leader = this.leaders.get(doc);
    return Promise.resolve(leader === undefined ? null : { ...leader });
  }

  private append(doc: string, data: Uint8Array): number {
    const id = this.nextId++;
    const log = this.logs.get(doc) ?? [];
    log.push({ id, data });
    this.logs.set(doc, log);
    return id;
  }
}
