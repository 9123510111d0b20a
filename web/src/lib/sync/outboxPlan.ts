/**
 * What to do with the outbox entries of one document once it is loaded (at
 * start) or freshly synced (after a reset). The outbox holds writes as plain
 * data until the server acknowledges them, so that a lost document, a closed
 * tab or a refusal never loses a message.
 */
import type { ErrorCode } from '@parley/protocol';

/**
 * Codes after which the client repairs itself (new client id, resync) or waits
 * and sends again (`slow-down`): every kind of write stays pending.
 */
export const SELF_HEALING: readonly ErrorCode[] = ['reset-required', 'client-id-taken', 'slow-down'];

/**
 * The pending recalls, edits and reactions an `ack` covers: one whose item
 * sits at or below the acked clock of its client, or a deletion (null) when
 * the ack is for a delete-only update (client 0).
 */
export function extrasAcked<R extends { id: string; state: string; value: unknown; client: number; clock: number }>(rows: readonly R[], ack: { client: number; clock: number }): string[] {
  return rows
    .filter((r) => r.state === 'pending')
    .filter((r) => (r.value === null && ack.client === 0) || (ack.client === r.client && ack.clock >= r.clock))
    .map((r) => r.id);
}

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
