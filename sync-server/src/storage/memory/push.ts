/** Push subscriptions and the push queue (with each push's claim: the process sending it, and until when), in memory. */
import type { PushStore, PushSubscriptionRecord, QueuedPush } from '../stores/push.ts';

export class MemoryPush implements PushStore {
  private subscriptions: PushSubscriptionRecord[] = [];
  private readonly queue = new Map<number, { push: QueuedPush; node: string; until: number }>();
  private nextId = 1;

  putPushSubscription(sub: PushSubscriptionRecord): Promise<void> {
    this.subscriptions = this.subscriptions.filter((s) => !(s.user === sub.user && s.device === sub.device) && s.endpoint !== sub.endpoint);
    this.subscriptions.push({ ...sub });
    return Promise.resolve();
  }

  deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean> {
    const before = this.subscriptions.length;
    this.subscriptions = this.subscriptions.filter((s) => !(s.user === user && s.device === device && (endpoint === undefined || s.endpoint === endpoint)));
    return Promise.resolve(this.subscriptions.length < before);
  }

  pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]> {
    return Promise.resolve(this.subscriptions.filter((s) => s.user === user).map((s) => ({ ...s })));
  }

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[], node: string, claimUntil: number): Promise<number[]> {
    return Promise.resolve(
      pushes.map((p) => {
        const id = this.nextId++;
        this.queue.set(id, { push: { ...p, id }, node, until: claimUntil });
        return id;
      }),
    );
  }

  queuedPushes(): Promise<QueuedPush[]> {
    return Promise.resolve([...this.queue.values()].map((q) => ({ ...q.push })));
  }

  claimPushes(node: string, now: number, claimUntil: number, limit: number, all = false): Promise<QueuedPush[]> {
    const claimed: QueuedPush[] = [];
    // A Map iterates in insertion order: ids ascending.
    for (const queued of this.queue.values()) {
      if (claimed.length >= limit) break;
      if (!all && (queued.push.due > now || queued.until > now)) continue;
      queued.node = node;
      queued.until = claimUntil;
      claimed.push({ ...queued.push });
    }
    return Promise.resolve(claimed);
  }

  renewPushClaims(node: string, ids: readonly number[], claimUntil: number): Promise<number[]> {
    return Promise.resolve(
      ids.filter((id) => {
        const queued = this.queue.get(id);
        if (queued?.node !== node) return false;
        queued.until = claimUntil;
        return true;
      }),
    );
  }

  releasePushClaims(node: string): Promise<void> {
    for (const queued of this.queue.values()) {
      if (queued.node !== node) continue;
      queued.node = '';
      queued.until = 0;
    }
    return Promise.resolve();
  }

  retryPush(id: number, attempts: number, due: number): Promise<void> {
    const queued = this.queue.get(id);
    if (queued !== undefined) queued.push = { ...queued.push, attempts, due };
    return Promise.resolve();
  }

  dropPushes(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.queue.delete(id);
    return Promise.resolve();
  }
}
