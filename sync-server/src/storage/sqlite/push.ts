/**
 * Push subscriptions and the push queue in SQLite: `push_subscriptions` (one
 * per user and device) and `push_queue`, whose rows carry the claim of the
 * process sending them (`claimed_by`, '' when free, and `claim_until`). One
 * writer thread makes each claim one transaction, so two claims never take
 * the same row.
 */
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

type QueueRow = QueuedPush & { claimed_by: string; claim_until: number };

const toPush = ({ id, user, device, payload, urgency, topic, created, attempts, due }: QueueRow): QueuedPush => ({
  id,
  user,
  device,
  payload,
  urgency: urgency === 'high' ? 'high' : 'normal',
  topic,
  created,
  attempts,
  due,
});

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
      enqueue: db.prepare<[string, string, string, string, string, number, number, number, string, number]>(
        'INSERT INTO push_queue (user, device, payload, urgency, topic, created, attempts, due, claimed_by, claim_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      queued: db.prepare<[], QueueRow>('SELECT * FROM push_queue ORDER BY id'),
      claim: db.prepare<[{ node: string; until: number; all: number; now: number; limit: number }], QueueRow>(
        'UPDATE push_queue SET claimed_by = @node, claim_until = @until WHERE id IN ' +
          '(SELECT id FROM push_queue WHERE @all OR (due <= @now AND claim_until <= @now) ORDER BY id LIMIT @limit) RETURNING *',
      ),
      renew: db.prepare<[number, number, string], { id: number }>('UPDATE push_queue SET claim_until = ? WHERE id = ? AND claimed_by = ? RETURNING id'),
      release: db.prepare<[string]>("UPDATE push_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = ?"),
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

  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[], node: string, claimUntil: number): number[] {
    return this.db.transaction(() =>
      pushes.map((p) => Number(this.stmt.enqueue.run(p.user, p.device, p.payload, p.urgency, p.topic, p.created, p.attempts, p.due, node, claimUntil).lastInsertRowid)),
    )();
  }

  queuedPushes(): QueuedPush[] {
    return this.stmt.queued.all().map(toPush);
  }

  claimPushes(node: string, now: number, claimUntil: number, limit: number, all = false): QueuedPush[] {
    return this.stmt.claim
      .all({ node, until: claimUntil, all: all ? 1 : 0, now, limit })
      .map(toPush)
      .sort((x, y) => x.id - y.id);
  }

  renewPushClaims(node: string, ids: readonly number[], claimUntil: number): number[] {
    return this.db.transaction(() => ids.filter((id) => this.stmt.renew.get(claimUntil, id, node) !== undefined))();
  }

  releasePushClaims(node: string): void {
    this.stmt.release.run(node);
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
