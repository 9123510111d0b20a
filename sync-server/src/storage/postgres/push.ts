/**
 * Push subscriptions and the push queue in PostgreSQL: `push_subscriptions`
 * (one per user and device) and `push_queue`, as in SQLite. Claims take rows
 * `FOR UPDATE SKIP LOCKED`: two processes claiming at once each pass over
 * the rows the other is taking instead of waiting for them, and never get
 * the same row.
 */
import type pg from 'pg';
import type { PushStore, PushSubscriptionRecord, QueuedPush } from '../stores/push.ts';
import { ascending, transaction } from './db.ts';

interface SubscriptionRow {
  user_id: string;
  device: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  previews: boolean;
  updated: number;
}

type QueuedRow = Omit<QueuedPush, 'user'> & { user_id: string; claimed_by: string; claim_until: number };

const toSubscription = ({ user_id, ...row }: SubscriptionRow): PushSubscriptionRecord => ({ user: user_id, ...row });
const toQueued = ({ id, user_id, device, payload, urgency, topic, created, attempts, due }: QueuedRow): QueuedPush => ({
  id,
  user: user_id,
  device,
  payload,
  urgency: urgency === 'high' ? 'high' : 'normal',
  topic,
  created,
  attempts,
  due,
});

export class PgPush implements PushStore {
  constructor(private readonly pool: pg.Pool) {}

  async putPushSubscription(sub: PushSubscriptionRecord): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('DELETE FROM push_subscriptions WHERE endpoint = $1 AND NOT (user_id = $2 AND device = $3)', [sub.endpoint, sub.user, sub.device]);
      await client.query(
        'INSERT INTO push_subscriptions (user_id, device, endpoint, p256dh, auth, previews, updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ' +
          'ON CONFLICT (user_id, device) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, previews = excluded.previews, updated = excluded.updated',
        [sub.user, sub.device, sub.endpoint, sub.p256dh, sub.auth, sub.previews, sub.updated],
      );
    });
  }

  async deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean> {
    const result =
      endpoint === undefined
        ? await this.pool.query('DELETE FROM push_subscriptions WHERE user_id = $1 AND device = $2', [user, device])
        : await this.pool.query('DELETE FROM push_subscriptions WHERE user_id = $1 AND device = $2 AND endpoint = $3', [user, device, endpoint]);
    return (result.rowCount ?? 0) > 0;
  }

  async pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]> {
    const { rows } = await this.pool.query<SubscriptionRow>('SELECT * FROM push_subscriptions WHERE user_id = $1', [user]);
    return rows.map(toSubscription);
  }

  /** One multi-row INSERT (one statement is one transaction). */
  async enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[], node: string, claimUntil: number): Promise<number[]> {
    if (pushes.length === 0) return [];
    const { rows } = await this.pool.query<{ id: number }>(
      'INSERT INTO push_queue (user_id, device, payload, urgency, topic, created, attempts, due, claimed_by, claim_until) ' +
        'SELECT *, $9::text, $10::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::integer[], $8::bigint[]) RETURNING id',
      [
        pushes.map((p) => p.user),
        pushes.map((p) => p.device),
        pushes.map((p) => p.payload),
        pushes.map((p) => p.urgency),
        pushes.map((p) => p.topic),
        pushes.map((p) => p.created),
        pushes.map((p) => p.attempts),
        pushes.map((p) => p.due),
        node,
        claimUntil,
      ],
    );
    return ascending(rows);
  }

  async queuedPushes(): Promise<QueuedPush[]> {
    const { rows } = await this.pool.query<QueuedRow>('SELECT * FROM push_queue ORDER BY id');
    return rows.map(toQueued);
  }

  async claimPushes(node: string, now: number, claimUntil: number, limit: number, all = false): Promise<QueuedPush[]> {
    const { rows } = await this.pool.query<QueuedRow>(
      'UPDATE push_queue SET claimed_by = $1, claim_until = $2 WHERE id IN ' +
        '(SELECT id FROM push_queue WHERE $3 OR (due <= $4 AND claim_until <= $4) ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING *',
      [node, claimUntil, all, now, limit],
    );
    return rows.map(toQueued).sort((x, y) => x.id - y.id);
  }

  async renewPushClaims(node: string, ids: readonly number[], claimUntil: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: number }>('UPDATE push_queue SET claim_until = $1 WHERE id = ANY($2::bigint[]) AND claimed_by = $3 RETURNING id', [
      claimUntil,
      ids,
      node,
    ]);
    return ascending(rows);
  }

  async releasePushClaims(node: string): Promise<void> {
    await this.pool.query("UPDATE push_queue SET claimed_by = '', claim_until = 0 WHERE claimed_by = $1", [node]);
  }

  async retryPush(id: number, attempts: number, due: number): Promise<void> {
    await this.pool.query('UPDATE push_queue SET attempts = $1, due = $2 WHERE id = $3', [attempts, due, id]);
  }

  async dropPushes(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.pool.query('DELETE FROM push_queue WHERE id = ANY($1::bigint[])', [ids]);
  }
}
