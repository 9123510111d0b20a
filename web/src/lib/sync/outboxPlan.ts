/**
 * What to do with the outbox entries of one document once it is loaded (at
 * start) or freshly synced (after a reset). The outbox holds writes as plain
 * data until the server acknowledges them, so that a lost document, a closed
 * tab or a refusal never loses a message.
 */
import type { ErrorCode } from '@parley/protocol';

export interface PlannedEntry {
  id: string;
  state: 'pending' | 'failed';
  code?: ErrorCode | undefined;
  /** A media message whose bytes are not all uploaded yet is held back (media/outbox.ts). */
  uploads?: 'pending' | 'done' | undefined;
}

export interface DocView {
  /** messages[id] as the document holds it (undefined when absent). */
  message(id: string): { from?: unknown } | undefined;
  /** seq[id], the server's stamp (undefined when not accepted yet). */
  seq(id: string): number | undefined;
}

export interface ReapplyPlan {
  /** Pending entries the document lacks: write them again. */
  write: string[];
  /** Entries the server has accepted (stamped) although no ack reached us: drop from the outbox. */
  accepted: string[];
}

/**
 * - a pending entry missing from the document is written again;
 * - any entry the document holds with a sequence stamp and the same author was
 *   accepted: a lost ack, or a `duplicate-id` refusal of a message the server
 *   had already stored — it is sent, not failed;
 * - failed entries are otherwise left for the user (Retry or Delete);
 * - a pending entry present without a stamp is in flight: wait for its ack;
 * - a media message still uploading is not written until its uploads are done.
 */
export function planReapply(entries: readonly PlannedEntry[], doc: DocView, me: string): ReapplyPlan {
  const plan: ReapplyPlan = { write: [], accepted: [] };
  for (const entry of entries) {
    const present = doc.message(entry.id);
    if (present !== undefined && present.from === me && doc.seq(entry.id) !== undefined) {
      if (entry.state === 'pending' || entry.code === 'duplicate-id') plan.accepted.push(entry.id);
      continue;
    }
    if (entry.state === 'pending' && present === undefined && entry.uploads !== 'pending') plan.write.push(entry.id);
  }
  return plan;
}
