/** Web Push: each device's subscription, and the queue of pushes waiting to go out. */

/** A device's Web Push subscription: one per (user, device). */
export interface PushSubscriptionRecord {
  user: string;
  device: string;
  endpoint: string;
  /** The browser's P-256 public key and auth secret, base64url. */
  p256dh: string;
  auth: string;
  /** false: pushes to this device carry no message text. */
  previews: boolean;
  /** ms since the epoch */
  updated: number;
}

/** A push waiting to go out to one device; kept until sent or given up, so a restart resumes it. */
export interface QueuedPush {
  id: number;
  user: string;
  device: string;
  /** The PushPayload JSON with every field; the device's preview setting and the size limit are applied when sending. */
  payload: string;
  urgency: 'high' | 'normal';
  topic: string;
  /** ms since the epoch: when it was queued (its TTL counts from here). */
  created: number;
  /** Attempts the push service put off (429/5xx) so far. */
  attempts: number;
  /** ms since the epoch: not sent before. */
  due: number;
}

export interface PushStore {
  /**
   * Creates or replaces the subscription of (user, device). Any other
   * (user, device) holding the same endpoint loses it: an endpoint is one
   * browser, and its newest sign-in owns it.
   */
  putPushSubscription(subscription: PushSubscriptionRecord): Promise<void>;
  /** Deletes the subscription of (user, device), only while its endpoint is `endpoint` when given; true if one was deleted. */
  deletePushSubscription(user: string, device: string, endpoint?: string): Promise<boolean>;
  pushSubscriptionsOf(user: string): Promise<PushSubscriptionRecord[]>;
  /**
   * Queues pushes in one durable transaction, claimed by `node` until
   * `claimUntil` (ms since the epoch), so that the process that queues them
   * sends them at once, with no other process taking them meanwhile;
   * resolves with their ids, in order. A copy (migrate) passes node '' and
   * claimUntil 0: unclaimed.
   */
  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[], node: string, claimUntil: number): Promise<number[]>;
  /** Every queued push, oldest first, whoever holds it (migrate, tests). */
  queuedPushes(): Promise<QueuedPush[]>;
  /**
   * Claims for `node`, until `claimUntil`, up to `limit` pushes, oldest
   * first, that are due (`due <= now`) and whose claim is free or expired
   * (`claim_until <= now`): a dead process's pushes, or those a stopped one
   * released. Resolves with them. With `all`, every push, due or not,
   * whatever its claim: a process that knows it is the only one (no cluster)
   * takes up everything at start, including what its previous life held.
   *
   * Two processes claiming at once never get the same push. PostgreSQL:
   * one statement, `UPDATE push_queue SET claimed_by = $node, claim_until =
   * $until WHERE id IN (SELECT id FROM push_queue WHERE due <= $now AND
   * claim_until <= $now ORDER BY id LIMIT $limit FOR UPDATE SKIP LOCKED)
   * RETURNING *` (SKIP LOCKED: a claim in progress elsewhere is passed
   * over, not waited for); SQLite: one write transaction.
   */
  claimPushes(node: string, now: number, claimUntil: number, limit: number, all?: boolean): Promise<QueuedPush[]>;
  /**
   * Extends `node`'s claim on the pushes `ids` to `claimUntil`; resolves with
   * the ids it still held, in any order (a push it lost was taken by another process after
   * its claim ran out, or dropped: the caller forgets it).
   */
  renewPushClaims(node: string, ids: readonly number[], claimUntil: number): Promise<number[]>;
  /** Frees every claim of `node` (it is stopping): another process takes its pushes at its next sweep. */
  releasePushClaims(node: string): Promise<void>;
  /** Puts a push off after an attempt the push service refused for now. */
  retryPush(id: number, attempts: number, due: number): Promise<void>;
  /** Removes pushes from the queue (sent, or given up). */
  dropPushes(ids: readonly number[]): Promise<void>;
}
