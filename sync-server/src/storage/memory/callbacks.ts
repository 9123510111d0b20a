/** The after-send callback queue (with each row's claim: the process sending it, and until when), in memory. */
import type { CallbackStore, QueuedCallback } from '../stores/callbacks.ts';
import type { CommitPart, Write } from '../stores/docs.ts';

export class MemoryCallbacks implements CallbackStore, CommitPart {
  private readonly queue = new Map<number, { row: QueuedCallback; node: string; until: number }>();
  private nextId = 1;

  record(writes: readonly Write[]): void {
    for (const w of writes) {
      if (w.kind !== 'callback') continue;
      const id = this.nextId++;
      this.queue.set(id, { row: { id, conversation: w.conversation, msg: w.msg, payload: w.payload, attempts: 0, due: w.due }, node: '', until: 0 });
    }
  }

  queuedCallbacks(): Promise<QueuedCallback[]> {
    return Promise.resolve([...this.queue.values()].map((q) => ({ ...q.row })));
  }

  nextCallbackDue(after: number): Promise<number | null> {
    let next: number | null = null;
    for (const { row } of this.queue.values()) if (row.due > after && (next === null || row.due < next)) next = row.due;
    return Promise.resolve(next);
  }

  claimCallbacks(node: string, now: number, claimUntil: number, limit: number, lone = false): Promise<QueuedCallback[]> {
    const claimed: QueuedCallback[] = [];
    // A Map iterates in insertion order: ids ascending.
    for (const queued of this.queue.values()) {
      if (claimed.length >= limit) break;
      if (queued.row.due > now || (queued.until > now && !(lone && queued.node !== node))) continue;
      queued.node = node;
      queued.until = claimUntil;
      claimed.push({ ...queued.row });
    }
    return Promise.resolve(claimed);
  }

  retryCallback(id: number, attempts: number, due: number): Promise<void> {
    const queued = this.queue.get(id);
    if (queued !== undefined) this.queue.set(id, { row: { ...queued.row, attempts, due }, node: '', until: 0 });
    return Promise.resolve();
  }

  dropCallbacksOf(conversation: string, msg: string): Promise<void> {
    for (const [id, { row }] of this.queue) if (row.conversation === conversation && row.msg === msg) this.queue.delete(id);
    return Promise.resolve();
  }

  dropCallbacks(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.queue.delete(id);
    return Promise.resolve();
  }

  releaseCallbackClaims(node: string, ids?: readonly number[]): Promise<void> {
    const only = ids === undefined ? null : new Set(ids);
    for (const [id, queued] of this.queue) {
      if (queued.node !== node || (only !== null && !only.has(id))) continue;
      queued.node = '';
      queued.until = 0;
    }
    return Promise.resolve();
  }
}
