/**
 * The devices' push subscriptions, with the most recently asked users' kept
 * in memory (least recently used dropped past `maxUsers`). Every accepted
 * message asks for its recipient's, and almost every recipient has none or is
 * online, so a storage read per message would be work that grows with the
 * message rate for nothing; subscriptions change rarely (a device subscribes,
 * signs out, or its push service drops it).
 *
 * Every change goes through here and clears the whole cache: storing one
 * subscription also drops its endpoint from any other user
 * (`putPushSubscription`), so clearing only the caller's entry would not do.
 * This holds for one server process only: with several (PostgreSQL and Redis),
 * a change made by one process must clear the caches of all the others.
 */
import type { PushSubscriptionRecord, Storage } from '../storage/storage.ts';

export class PushSubscriptions {
  /** By user, least recently used first (a Map keeps insertion order). */
  private readonly byUser = new Map<string, readonly PushSubscriptionRecord[]>();
  /** Counts changes: a read that started before the latest change may hold what it replaced, and is not kept. */
  private changes = 0;

  constructor(
    private readonly storage: Storage,
    private readonly maxUsers: number,
  ) {}

  /** The user's subscriptions, one per device (none for most users). */
  async of(user: string): Promise<readonly PushSubscriptionRecord[]> {
    const cached = this.byUser.get(user);
    if (cached !== undefined) {
      this.byUser.delete(user);
      this.byUser.set(user, cached);
      return cached;
    }
    const changes = this.changes;
    const subscriptions = await this.storage.pushSubscriptionsOf(user);
    if (changes === this.changes) this.remember(user, subscriptions);
    return subscriptions;
  }

  /** Creates or replaces the subscription of the record's device (and drops its endpoint from anyone else). */
  async put(subscription: PushSubscriptionRecord): Promise<void> {
    try {
      await this.storage.putPushSubscription(subscription);
    } finally {
      this.clear();
    }
  }

  /** Deletes the device's subscription (only if it still points at `endpoint`, when given). */
  async delete(user: string, device: string, endpoint?: string): Promise<boolean> {
    try {
      return await this.storage.deletePushSubscription(user, device, endpoint);
    } finally {
      this.clear();
    }
  }

  private remember(user: string, subscriptions: readonly PushSubscriptionRecord[]): void {
    this.byUser.set(user, subscriptions);
    if (this.byUser.size <= this.maxUsers) return;
    const oldest = this.byUser.keys().next();
    if (oldest.done !== true) this.byUser.delete(oldest.value);
  }

  /** After a change, whether it committed or failed: a failed write may still have committed. */
  private clear(): void {
    this.changes += 1;
    this.byUser.clear();
  }
}
