/** Push subscriptions and the push queue, in memory. */
import type { PushStore, PushSubscriptionRecord, QueuedPush } from '../stores/push.ts';

export class MemoryPush implements PushStore {
  private subscriptions: PushSubscriptionRecord[] = [];
  private readonly queue = new Map<number, QueuedPush>();
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

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): Promise<number[]> {
    return Promise.resolve(
      pushes.map((p) => {
        const id = this.nextId++;
        this.queue.set(id, { ...p, id });
        return id;
      }),
    );
  }

  queuedPushes(): Promise<QueuedPush[]> {
    return Promise.resolve([...this.queue.values()].sort((x, y) => x.id - y.id).map((p) => ({ ...p })));
  }

  retryPush(id: number, attempts: number, due: number): Promise<void> {
    const push = this.queue.get(id);
    if (push !== undefined) this.queue.set(id, { ...push, attempts, due });
    return Promise.resolve();
  }

  dropPushes(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.queue.delete(id);
    return Promise.resolve();
  }
}
