/**
 * The state of a message as the sender sees it, derived from the documents
 * alone (docs/architecture.md, "Message states"):
 * pending — in the outbox, no sequence yet; sent — sequence stamped, or
 * acked with none (a silently dropped message to someone who blocked the
 * sender: acked like any other, never stamped, and shown the same way);
 * delivered / read — the peer's receipt reaches the sequence; failed — refused.
 */
import type { ErrorCode } from '@parley/protocol';

export type MessageState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StateInputs {
  seq: number | null;
  /** The outbox entry of the message, when it has one. */
  outbox?: { state: 'pending' | 'failed'; code?: ErrorCode | undefined } | undefined;
  /** The peer's highest `delivered` and `read` receipts in this conversation (0 when none). */
  peerDelivered: number;
  peerRead: number;
}

export function messageState({ seq, outbox, peerDelivered, peerRead }: StateInputs): MessageState {
  if (outbox?.state === 'failed') return 'failed';
  // Acked (out of the outbox) yet never stamped: the server's silent answer to a blocked sender, shown as sent.
  if (seq === null) return outbox === undefined ? 'sent' : 'pending';
  if (peerRead >= seq) return 'read';
  if (peerDelivered >= seq) return 'delivered';
  return 'sent';
}

export const STATE_LABELS: Record<MessageState, string> = {
  pending: 'Pending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};
