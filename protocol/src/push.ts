/**
 * Web Push: the HTTP contract and the payload the service worker reads.
 *
 *   GET    /api/v1/push/key            -> PushKey (the server's VAPID public key)
 *   PUT    /api/v1/push/subscription   PushSubscriptionBody -> 204; upserted for the token's device
 *   DELETE /api/v1/push/subscription   -> 204; this device gets no more pushes (sign-out)
 *
 * A device is "online" while its inbox socket is open; every other device of
 * the recipient with a subscription gets one push per accepted message,
 * unless the recipient muted the conversation (`muted[<peer>]` in prefs). The
 * payload is JSON, encrypted (RFC 8291, aes128gcm) and at most PUSH_PAYLOAD_MAX
 * bytes; fields are dropped (avatar, then body, then preview) until it fits.
 */
import { z } from 'zod';
import { Element, MessageType } from './elements.ts';

/** The push services' limit on an encrypted payload is 4 KB; this leaves room for the record overhead. */
export const PUSH_PAYLOAD_MAX = 3800;
/** How long a push service keeps an undelivered message, in seconds. */
export const PUSH_TTL_SECONDS = 24 * 60 * 60;

export const PushKey = z.object({ publicKey: z.string() });

export const PushSubscriptionBody = z.object({
  endpoint: z.url().max(2048),
  keys: z.object({ p256dh: z.string().min(1).max(256), auth: z.string().min(1).max(64) }),
  /** false: pushes to this device carry no message text ("previews off"). */
  previews: z.boolean().default(true),
});
export type PushSubscriptionBody = z.infer<typeof PushSubscriptionBody>;

export const PushPayload = z.object({
  v: z.literal(1),
  kind: z.enum(['message', 'recall']),
  /** The other member of the conversation, from the recipient's side: the sender. */
  peer: z.string(),
  /** The conversation document (segment) the message is in. */
  doc: z.string(),
  sender: z.object({ id: z.string(), nickname: z.string(), avatar: z.string().optional() }),
  message: z.object({
    id: z.string(),
    seq: z.number().int().nonnegative(),
    ts: z.number(),
    type: MessageType,
    /** Absent when previews are off or it would not fit. */
    preview: z.string().optional(),
    body: z.array(Element).optional(),
  }),
  /** The recipient's unread count over all conversations, for the app badge. */
  unread: z.number().int().nonnegative(),
  /** The notification's title and text when the message's sender chose them (an app backend's OfflinePushInfo); the text goes when previews are off. */
  show: z.object({ title: z.string().optional(), text: z.string().optional() }).optional(),
  /** Seconds the push is worth delivering, when shorter than PUSH_TTL_SECONDS (MsgLifeTime). */
  ttl: z.number().int().nonnegative().optional(),
});
export type PushPayload = z.infer<typeof PushPayload>;

/** The push Topic header: one per conversation, so a push service keeps only the newest. */
export function pushTopic(peer: string): string {
  // Topic: at most 32 characters of the URL-safe base64 alphabet.
  let h = 0x811c9dc5;
  for (let i = 0; i < peer.length; i++) h = Math.imul(h ^ peer.charCodeAt(i), 0x01000193) >>> 0;
  const safe = peer.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 23);
  return `${safe}-${h.toString(36)}`.slice(0, 32);
}
