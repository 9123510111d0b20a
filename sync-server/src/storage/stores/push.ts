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
  /** Queues pushes in one durable transaction; resolves with their ids, in order. */
  enqueuePushes(pushes: readonly Omit<QueuedPush, 'id'>[]): Promise<number[]>;
  /** Every queued push, oldest first. */
  queuedPushes(): Promise<QueuedPush[]>;
  /** Puts a push off after an attempt the push service refused for now. */
  retryPush(id: number, attempts: number, due: number): Promise<void>;
  /** Removes pushes from the queue (sent, or given up). */
  dropPushes(ids: readonly number[]): Promise<void>;
}
