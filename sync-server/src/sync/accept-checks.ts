/**
 * The accept path's refusals before anything is applied, each answered with
 * a `reject` to the writer: over the update budget, the storage in fault or
 * below its free reserve, over the write rate, or a receipt to a blocked peer.
 * Each returns whether the update may go on.
 */
import { errorMessage, type Message, scanUpdate, type UpdateBudget, type Verdict } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Writer } from './connection.ts';
import type { LiveDoc } from './live-doc.ts';
import type { Presence } from './presence.ts';
import type { WriteRate } from './write-rate.ts';

/** The limits the checks enforce, resolved from HubOptions (hub.ts says what each is). */
export interface CheckLimits {
  storageFull: () => boolean;
  updateBudget: UpdateBudget;
  writeRate: WriteRate;
}

export class AcceptChecks {
  constructor(
    private readonly log: Log,
    private readonly commit: GroupCommit,
    private readonly presence: Presence,
    private readonly limits: CheckLimits,
  ) {}

  /**
   * While the storage is in fault (a commit failed; storage/health.ts) every
   * update is refused whole with its code, before anything is applied; the
   * client keeps what it wrote and sends it again (the web app shows the
   * messages as not sent, with the reason, and Retry).
   */
  refusedForStorage(live: LiveDoc, connection: Writer, messages: readonly Message[]): boolean {
    const refused = this.commit.refusing();
    if (refused === null) return false;
    const msgIds = messages.map((m) => m.id);
    this.log.debug({ doc: live.path, user: connection.user, code: refused.code }, 'update rejected');
    connection.sendControl({ type: 'reject', code: refused.code, message: errorMessage(refused.code), msgIds });
    return true;
  }

  /**
   * Below the free-disk reserve an update with new messages is refused whole
   * (storage-full), before anything is applied: never acknowledged and then
   * lost. Receipts, reactions and recalls still pass: they are small, and a
   * recall frees space.
   */
  refusedForSpace(live: LiveDoc, connection: Writer, messages: readonly Message[]): boolean {
    if (messages.length === 0 || !this.limits.storageFull()) return false;
    const msgIds = messages.map((m) => m.id);
    this.log.info({ doc: live.path, user: connection.user, code: 'storage-full' }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'storage-full', message: errorMessage('storage-full'), msgIds });
    return true;
  }

  /**
   * Bounded work per frame: an update over the byte or struct budget is
   * refused from a scan of its bytes (protocol/src/scan.ts), before Yjs
   * decodes it, so that it costs microseconds and no memory. A malformed one
   * goes on to the validator, which says why.
   */
  withinBudget(live: LiveDoc, connection: Writer, update: Uint8Array): boolean {
    const scan = scanUpdate(update, this.limits.updateBudget);
    if (scan.ok || scan.reason === 'malformed') return true;
    this.log.info({ doc: live.path, user: connection.user, code: 'update-too-large', detail: scan.detail }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'update-too-large', message: `${errorMessage('update-too-large')} (${scan.detail})`, msgIds: [] });
    return false;
  }

  /** Whether an update is within the budget (or malformed, for the validator to say why), refusing nothing. */
  fits(update: Uint8Array): boolean {
    const scan = scanUpdate(update, this.limits.updateBudget);
    return scan.ok || scan.reason === 'malformed';
  }

  /**
   * The per-user write rate (sync/write-rate.ts): each new message, edit,
   * reaction and action of an accepted-to-be update takes a token; without
   * enough, the whole update is refused (`slow-down`) and the client sends it
   * again after `retryAfterMs`.
   */
  withinRate(live: LiveDoc, connection: Writer, verdict: Extract<Verdict, { ok: true }>): boolean {
    const writes = verdict.messages.length + verdict.edits.length + verdict.reactions.length + verdict.actions.length;
    const taken = this.limits.writeRate.take(connection.user, writes);
    if (taken.ok) return true;
    const msgIds = verdict.messages.map((m) => m.id);
    this.log.info({ doc: live.path, user: connection.user, code: 'slow-down', writes }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'slow-down', message: errorMessage('slow-down'), msgIds, retryAfterMs: taken.retryAfterMs });
    return false;
  }

  /**
   * A receipt written by a user in a conversation with someone they block,
   * or a read receipt while either member has read receipts off, is not
   * taken: the update is refused as out of step (`reset-required`), which
   * the app handles without a word: it drops its copy, syncs the server's
   * again and re-applies what it still has to send, and it writes no receipt
   * for a peer on its blocklist. Refused rather than stripped, because the
   * other structs of the update follow the receipt's under the same client
   * id: withholding one from the peer would stall the rest in the peer's copy.
   */
  refuseWithheldReceipts(live: LiveDoc, connection: Writer, verdict: Extract<Verdict, { ok: true }>): boolean {
    const path = live.parsed;
    const { user } = connection;
    if (path.kind !== 'conversation' || verdict.receipts.length === 0) return false;
    const read = verdict.receipts.some((r) => r.kind === 'read');
    if (!this.presence.receiptsWithheld(user, path.a === user ? path.b : path.a, read)) return false;
    const msgIds = verdict.messages.map((m) => m.id);
    this.log.info({ doc: live.path, user, msgIds }, 'receipt withheld (a block, or read receipts off) refused');
    connection.sendControl({ type: 'reject', code: 'reset-required', message: `${errorMessage('reset-required')} (receipts withheld)`, msgIds });
    return true;
  }
}
