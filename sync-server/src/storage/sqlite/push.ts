/** Push subscriptions and the push queue in SQLite: `push_subscriptions` (one per user and device) and `push_queue`. */
import type Database from 'better-sqlite3';
import type { PushStore, PushSubscriptionRecord, QueuedPush } from '../stores/push.ts';
import type { Sync } from './sync.ts';

interface SubscriptionRow {
  user: string;
  device: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  previews: number;
  updated: number;
}

const toSubscription = (row: SubscriptionRow): PushSubscriptionRecord => ({ ...row, previews: row.previews !== 0 });

export class SqlitePush implements Sync<PushStore> {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      dropEndpoint: db.prepare<[string, string, string]>('DELETE FROM push_subscriptions WHERE endpoint = ? AND NOT (user = ? AND device = ?)'),
      subscribe: db.prepare<[string, string, string, string, string, number, number]>(
        'INSERT INTO push_subscriptions (user, device, endpoint, p256dh, auth, previews, updated) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (user, device) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, previews = excluded.previews, updated = excluded.updated',
      ),
      unsubscribe: db.prepare<[string, string]>('DELETE FROM push_subscriptions WHERE user = ? AND device = ?'),
      unsubscribeAt: db.prepare<[string, string, string]>('DELETE FROM push_subscriptions WHERE user = ? AND device = ? AND endpoint = ?'),
      subscriptionsOf: db.prepare<[string], SubscriptionRow>('SELECT * FROM push_subscriptions WHERE user = ?'),
      enqueue: db.prepare<[string, string, string, string, string, number, number, number]>(
        'INSERT INTO push_queue (user, device, payload, urgency, topic, created, attempts, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      queued: db.prepare<[], QueuedPush>('SELECT * FROM push_queue ORDER BY id'),
      retry: db.prepare<[number, number, number]>('UPDATE push_queue SET attempts = ?, due = ? WHERE id = ?'),
      drop: db.prepare<[number]>('DELETE FROM push_queue WHERE id = ?'),
    };
  }

  putPushSubscription(sub: PushSubscriptionRecord): void {
    this.db.transaction(() => {
      this.stmt.dropEndpoint.run(sub.endpoint, sub.user, sub.device);
      this.stmt.subscribe.run(sub.user, sub.device, sub.endpoint, sub.p256dh, sub.auth, sub.previews ? 1 : 0, sub.updated);
    })();
  }

  deletePushSubscription(user: string, device: string, endpoint?: string): boolean {
    const result = endpoint === undefined ? this.stmt.unsubscribe.run(user, device) : this.stmt.unsubscribeAt.run(user, device, endpoint);
    return result.changes > 0;
  }

  pushSubscriptionsOf(user: string): PushSubscriptionRecord[] {
    return this.stmt.subscriptionsOf.all(user).map(toSubscription);
  }

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): number[] {
    return this.db.transaction(() =>
      pushes.map((p) => Number(this.stmt.enqueue.run(p.user, p.device, p.payload, p.urgency, p.topic, p.created, p.attempts, p.due).lastInsertRowid)),
    )();
  }

  queuedPushes(): QueuedPush[] {
    return this.stmt.queued.all().map((p) => ({ ...p, urgency: p.urgency === 'high' ? 'high' : 'normal' }));
  }

  retryPush(id: number, attempts: number, due: number): void {
    this.stmt.retry.run(attempts, due, id);
  }

  dropPushes(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.drop.run(id);
    })();
  }
}
