/**
 * The outbox: every write of this device that the server has not
 * acknowledged (messages, actions on custom messages, recalls, edits,
 * reactions), one table of kind-tagged entries (db.ts `OutboxEntry`) and one
 * path for the server's answers:
 *
 * - `ack`: a message by its id; an action or extra whose item the copy that
 *   sent the update holds below the acked clock of its client (actionPlan.ts,
 *   outboxPlan.ts). Acked entries leave the outbox (a message's media bytes
 *   too: the server holds them).
 * - `reject`: the named messages fail with the code (shown, with Retry);
 *   actions it refused fail (shown on the custom message); recalls, edits and
 *   reactions it refused are dropped and the refusal reported. Codes in
 *   SELF_HEALING fail nothing: the copy is reset and the writes go again.
 * - re-apply (at start, after each sync, after a `slow-down` wait): what the
 *   server stored already leaves the outbox; every pending entry the copy
 *   lacks is written again, in the order it was made (`createdAt`).
 */
import * as Y from 'yjs';
import { errorMessage, type ControlFrame, type ErrorCode } from '@parley/protocol';
import { db, outboxId, type ActionOutboxRow, type ExtraOutboxRow, type OutboxEntry, type OutboxRow } from '../db.ts';
import { actionsAcked, actionsRefused, planActionReapply, type ItemId } from './actionPlan.ts';
import { ACTIONS_ROOT, reflected, writeEntry } from './outboxDoc.ts';
import { SELF_HEALING, extrasAcked, planReapply } from './outboxPlan.ts';

export { SELF_HEALING };

/** What the outbox needs of a segment document (SyncedDoc). */
export interface OutboxDoc {
  readonly path: string;
  readonly doc: Y.Doc;
  readonly synced: boolean;
}

type Ack = Extract<ControlFrame, { type: 'ack' }>;
type Reject = Extract<ControlFrame, { type: 'reject' }>;

const byAge = (a: OutboxEntry, b: OutboxEntry): number => a.createdAt - b.createdAt;
const isMessage = (e: OutboxEntry): e is OutboxRow => e.kind === 'message';
const isAction = (e: OutboxEntry): e is ActionOutboxRow => e.kind === 'action';
const isExtra = (e: OutboxEntry): e is ExtraOutboxRow => e.kind === 'extra';

/** Records a write before it goes into its document. */
export async function record(entry: OutboxEntry): Promise<void> {
  await db.outbox.put(entry);
}

/** The entries of one document, oldest first. */
export async function entriesOf(path: string): Promise<OutboxEntry[]> {
  return (await db.outbox.where('path').equals(path).toArray()).sort(byAge);
}

/** The messages of a conversation in the outbox (pending or failed). */
export function messageEntriesOf(conv: string): Promise<OutboxRow[]> {
  return db.outbox.where('conv').equals(conv).filter(isMessage).toArray();
}

/** The actions on one custom message in the outbox (pending or failed). */
export function actionEntriesOf(msgId: string): Promise<ActionOutboxRow[]> {
  return db.outbox.where('msg').equals(msgId).filter(isAction).toArray();
}

/** Documents with writes waiting for the server: opened at start. */
export async function pendingPaths(): Promise<Set<string>> {
  return new Set((await db.outbox.where('state').equals('pending').toArray()).map((e) => e.path));
}

/** Whether the outbox keeps `path` open: a message of it (pending, or failed and shown), or any other pending write. */
export async function holdsOpen(path: string): Promise<boolean> {
  return (await db.outbox.where('path').equals(path).filter((e) => e.kind === 'message' || e.state === 'pending').count()) > 0;
}

/** Entries the server holds leave the outbox, and the media bytes of such messages the device. */
async function drop(ids: readonly string[], messageIds: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.transaction('rw', db.outbox, db.blobs, async () => {
    await db.outbox.bulkDelete([...ids]);
    if (messageIds.length > 0) await db.blobs.where('msg').anyOf([...messageIds]).delete();
  });
}

/** Where `doc` holds an action's item: the Yjs id that an ack's client and clock are compared with. */
function itemIds(doc: Y.Doc): (key: string) => ItemId | undefined {
  const map = doc.getMap<unknown>(ACTIONS_ROOT);
  return (key) => {
    const item = map._map.get(key);
    return item === undefined || item.deleted ? undefined : { client: item.id.client, clock: item.id.clock };
  };
}

/**
 * An `ack`. Call as the frame arrives: the items are judged in the copy that
 * sent the update, read before anything awaits (a reset replaces it).
 */
export function acknowledge(target: OutboxDoc, frame: Ack): Promise<void> {
  const itemOf = itemIds(target.doc);
  return (async () => {
    const rows = await entriesOf(target.path);
    const actions = actionsAcked(rows.filter(isAction), frame, itemOf).map((key) => outboxId('action', key));
    const extras = extrasAcked(rows.filter(isExtra), frame);
    await drop([...frame.msgIds, ...actions, ...extras], frame.msgIds);
  })();
}

/** The words a refusal brings of its own (the app's server's, for callback-refused), kept to show with the failed message. */
function ownWordsOf(frame: Reject): string | undefined {
  return frame.code === 'callback-refused' && frame.message.trim() !== '' ? frame.message : undefined;
}

/** Documents whose copy is being rebuilt from the server after a refusal: judged again once synced. */
const fresh = new Set<string>();

/** A `reject` (the hub then resets the copy). */
export async function reject(path: string, frame: Reject, report: (e: unknown) => void): Promise<void> {
  fresh.add(path);
  const rows = await entriesOf(path);
  // Whether the refusal was about a pending message decides the other writes' fate: read before any is marked failed.
  const pendingMessages = rows.filter((e) => isMessage(e) && e.state === 'pending').map((e) => e.id);
  const refusedActions = actionsRefused(rows.filter(isAction), frame, pendingMessages);
  const pendingExtras = rows.filter((e) => isExtra(e) && e.state === 'pending');
  const dropExtras = !SELF_HEALING.includes(frame.code) && pendingExtras.length > 0 && !pendingMessages.some((id) => frame.msgIds.includes(id));
  const named = rows.filter((e) => isMessage(e) && frame.msgIds.includes(e.id)).map((e) => e.id);
  await db.transaction('rw', db.outbox, db.actions, async () => {
    if (refusedActions.length > 0) {
      await db.outbox.where('id').anyOf(refusedActions.map((key) => outboxId('action', key))).modify({ state: 'failed', code: frame.code });
      await db.actions.bulkDelete(refusedActions);
    }
    if (dropExtras) await db.outbox.bulkDelete(pendingExtras.map((e) => e.id));
    if (named.length === 0) return;
    // Not a failure: after a slow-down the messages stay pending, shown as "slow down", and go again after the wait.
    if (frame.code === 'slow-down') await db.outbox.where('id').anyOf(named).modify({ code: 'slow-down' });
    else if (!SELF_HEALING.includes(frame.code)) await db.outbox.where('id').anyOf(named).modify({ state: 'failed', code: frame.code, reason: ownWordsOf(frame) });
  });
  if (dropExtras) report(Object.assign(new Error(errorMessage(frame.code)), { code: frame.code }));
}

/** Every message of a document fails (its peer does not exist: they can never go). */
export async function failMessages(path: string, code: ErrorCode): Promise<void> {
  await db.outbox.where('path').equals(path).filter(isMessage).modify({ state: 'failed', code });
}

/**
 * After a load or a sync: drops what the server stored already, and writes
 * again, oldest first, every pending entry the copy lacks. Entries of one
 * kind in a row go in one transaction (one update).
 */
export async function reapply(target: OutboxDoc, me: string): Promise<void> {
  // A copy rebuilt after a refusal is judged once it has synced (the hub calls again): its messages only meanwhile.
  const waitForSync = fresh.has(target.path) && !target.synced;
  const wasFresh = !waitForSync && fresh.delete(target.path);
  const rows = await entriesOf(target.path);
  if (rows.length === 0) return;
  const seen = target.doc;
  const messages = seen.getMap<unknown>('messages');
  const seqs = seen.getMap<unknown>('seq');
  const messagePlan = planReapply(
    rows.filter(isMessage),
    { message: (id) => messages.get(id) as { from?: unknown } | undefined, seq: (id) => seqs.get(id) as number | undefined },
    me,
  );
  const actionsMap = seen.getMap<unknown>(ACTIONS_ROOT);
  const actionPlan = waitForSync ? { write: [], stored: [] } : planActionReapply(rows.filter(isAction), (key) => actionsMap.has(key), wasFresh);
  const extras = waitForSync ? [] : rows.filter((e): e is ExtraOutboxRow => isExtra(e) && e.state === 'pending');
  const storedExtras = wasFresh ? extras.filter((e) => reflected(seen, e)) : [];

  await drop([...messagePlan.accepted, ...actionPlan.stored.map((key) => outboxId('action', key)), ...storedExtras.map((e) => e.id)], messagePlan.accepted);

  const write = new Set([...messagePlan.write, ...actionPlan.write.map((key) => outboxId('action', key)), ...extras.filter((e) => !reflected(seen, e)).map((e) => e.id)]);
  const runs: OutboxEntry[][] = [];
  for (const entry of rows) {
    if (!write.has(entry.id)) continue;
    const last = runs.at(-1);
    if (last !== undefined && last[0]?.kind === entry.kind) last.push(entry);
    else runs.push([entry]);
  }
  if (runs.length === 0) return;
  const doc = target.doc;
  const moved: ExtraOutboxRow[] = [];
  for (const run of runs) {
    doc.transact(() => {
      for (const entry of run) writeEntry(doc, entry);
    });
    // An extra's ack is judged by where its item now sits.
    const clock = Y.getState(doc.store, doc.clientID);
    for (const entry of run) if (isExtra(entry)) moved.push({ ...entry, client: doc.clientID, clock });
  }
  if (moved.length > 0) await db.outbox.bulkPut(moved);
}
