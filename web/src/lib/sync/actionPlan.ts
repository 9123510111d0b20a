/**
 * What the action outbox does with the server's answers, pure. Actions
 * (`actions[...]` in a conversation document, lib/custom/) are written once
 * ever and carry no server stamp, so their fate is read from the control
 * frames and from a freshly synced copy:
 *
 * - an `ack` names a Yjs client id and the clock after the update it stored;
 *   the server holds every struct of that client below that clock (it
 *   refuses gaps and applies updates whole), so an action whose item in the
 *   copy has that client and a lower clock is stored (and so is one the ack
 *   names by key, should the server list it);
 * - a `reject` refuses a whole update: the actions it names fail; if it names
 *   none and no pending message of this device either, the pending actions of
 *   that document were what it refused (otherwise a refused action would be
 *   written again after every reset, and refused again, forever);
 * - after a reset the copy holds only what the server has: an action of mine
 *   present there is stored; a missing pending one is written again.
 */
import type { ErrorCode } from '@parley/protocol';
import { SELF_HEALING } from './outboxPlan.ts';

export interface PlannedAction {
  key: string;
  state: 'pending' | 'failed';
  code?: ErrorCode | undefined;
}

/** Where the copy holds an action's item: its Yjs id. */
export interface ItemId {
  client: number;
  clock: number;
}

/** The pending actions an `ack` covers; `itemOf` finds an action's item in the copy. */
export function actionsAcked(
  rows: readonly PlannedAction[],
  ack: { client: number; clock: number; msgIds: readonly string[] },
  itemOf: (key: string) => ItemId | undefined,
): string[] {
  return rows
    .filter((r) => {
      if (r.state !== 'pending') return false;
      if (ack.msgIds.includes(r.key)) return true;
      const item = itemOf(r.key);
      return item !== undefined && item.client === ack.client && item.clock < ack.clock;
    })
    .map((r) => r.key);
}

/** The pending actions a `reject` refused. `pendingMessages`: this device's messages waiting in the same document. */
export function actionsRefused(
  rows: readonly PlannedAction[],
  reject: { code: ErrorCode; msgIds: readonly string[] },
  pendingMessages: readonly string[],
): string[] {
  if (SELF_HEALING.includes(reject.code)) return [];
  const pending = rows.filter((r) => r.state === 'pending');
  const named = pending.filter((r) => reject.msgIds.includes(r.key));
  if (named.length > 0) return named.map((r) => r.key);
  if (reject.msgIds.some((id) => pendingMessages.includes(id))) return [];
  return pending.map((r) => r.key);
}

export interface ActionReapplyPlan {
  /** Pending actions the copy lacks: write them again. */
  write: string[];
  /** Actions the server holds: drop from the outbox. */
  stored: string[];
}

/**
 * After a (re)sync. `fresh`: the copy was just rebuilt from the server's after
 * a refusal, so whatever it holds, the server has. A failed `duplicate-action`
 * found there was written by another of my devices: done, not failed.
 */
export function planActionReapply(rows: readonly PlannedAction[], present: (key: string) => boolean, fresh: boolean): ActionReapplyPlan {
  const plan: ActionReapplyPlan = { write: [], stored: [] };
  for (const r of rows) {
    if (present(r.key)) {
      if (fresh && (r.state === 'pending' || r.code === 'duplicate-action')) plan.stored.push(r.key);
    } else if (r.state === 'pending') {
      plan.write.push(r.key);
    }
  }
  return plan;
}
