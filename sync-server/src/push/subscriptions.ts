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
 * In a cluster every change, once written, is also announced on the bus
 * (`push-subs`), and every other process clears its cache on hearing it, and
 * after a Redis outage (an announcement may have been lost). Until the
 * announcement arrives (a few ms) another process may still push to a
 * subscription just replaced: the push service then answers 404/410 for the
 * old endpoint, as it does after any unsubscribe it hears of late.
 */
import type { Bus } from '../cluster/bus.ts';
import type { PushSubscriptionRecord, Storage } from '../storage/storage.ts';

const CHANNEL = 'push-subs';

export class PushSubscriptions {
  /** By user, least recently used first (a Map keeps insertion order). */
  private readonly byUser = new Map<string, readonly PushSubscriptionRecord[]>();
  /** Counts changes: a read that started before the latest change may hold what it replaced, and is not kept. */
  private changes = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly storage: Storage,
    private readonly maxUsers: number,
    private readonly bus?: Bus,
  ) {
    // Its own announcements too: harmless, and the cache was cleared already.
    this.unsubscribe = bus?.subscribe(CHANNEL, () => this.clear()) ?? (() => undefined);
    bus?.onResync(() => this.clear());
  }

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
      this.changed();
    }
  }

  /** Deletes the device's subscription (only if it still points at `endpoint`, when given). */
  async delete(user: string, device: string, endpoint?: string): Promise<boolean> {
    try {
      return await this.storage.deletePushSubscription(user, device, endpoint);
    } finally {
      this.changed();
    }
  }

  /** Stops hearing the other processes' changes. */
  close(): void {
    this.unsubscribe();
  }

  private remember(user: string, subscriptions: readonly PushSubscriptionRecord[]): void {
    this.byUser.set(user, subscriptions);
    if (this.byUser.size <= this.maxUsers) return;
    const oldest = this.byUser.keys().next();
    if (oldest.done !== true) this.byUser.delete(oldest.value);
  }

  /** After a change, whether it committed or failed: a failed write may still have committed. */
  private changed(): void {
    this.clear();
    this.bus?.publish(CHANNEL, '');
  }

  private clear(): void {
    this.changes += 1;
    this.byUser.clear();
  }
}
