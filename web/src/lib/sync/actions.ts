/**
 * Actions on custom messages in the sync layer: materialising a conversation
 * document's `actions` map into the `actions` table, and the action outbox
 * (`actionOutbox`), which gives an action the durability of a message: kept
 * as plain data until the server acknowledges it, written again after a
 * reset or a reload, failed (and shown) when refused. The hub calls these at
 * the same points as its message outbox; the decisions are in actionPlan.ts.
 */
import * as Y from 'yjs';
import { MessageAction, actionKey, type ControlFrame, type ErrorCode } from '@parley/protocol';
import { db, type ActionRow } from '../db.ts';
import { actionsAcked, actionsRefused, planActionReapply, type ItemId } from './actionPlan.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export const ACTIONS_ROOT = 'actions';

/** An action row from `actions[key]`, or null when malformed or under the wrong key. */
export function actionRow(key: string, value: unknown, conv: string): ActionRow | null {
  const parsed = MessageAction.safeParse(value);
  if (!parsed.success) return null;
  const a = parsed.data;
  if (actionKey(a.msg, a.from, a.name) !== key) return null;
  return { key, msg: a.msg, conv, from: a.from, name: a.name, data: a.data, ts: a.ts };
}

/**
 * Keeps the `actions` table in step with a conversation document's `actions`
 * map: every key at attach time, then the keys each transaction changed.
 */
export function observeActions(doc: Y.Doc, conv: string, onError: (e: unknown) => void): () => void {
  const map = doc.getMap<unknown>(ACTIONS_ROOT);
  const dirty = new Set<string>(map.keys());
  const observer = (event: Y.YMapEvent<unknown>): void => {
    for (const key of event.keysChanged as Set<string>) dirty.add(key);
  };
  const flush = (): void => {
    if (dirty.size === 0) return;
    const keys = [...dirty];
    dirty.clear();
    const rows = keys.flatMap((key) => {
      const row = map.has(key) ? actionRow(key, map.get(key), conv) : null;
      return row === null ? [] : [row];
    });
    if (rows.length > 0) db.actions.bulkPut(rows).catch(onError);
  };
  map.observe(observer);
  doc.on('afterTransaction', flush);
  flush();
  return () => {
    map.unobserve(observer);
    doc.off('afterTransaction', flush);
  };
}

/**
 * Writes an action into its document, after recording it in the outbox.
 * Refuses a key the copy holds already: an action is written once, ever.
 */
export async function writeAction(synced: SyncedDoc, action: MessageAction): Promise<void> {
  const key = actionKey(action.msg, action.from, action.name);
  const doc = synced.doc;
  const map = doc.getMap<unknown>(ACTIONS_ROOT);
  if (map.has(key)) throw Object.assign(new Error(`action ${key} exists`), { code: 'duplicate-action' satisfies ErrorCode });
  await db.actionOutbox.put({ key, path: synced.path, msg: action.msg, action, state: 'pending', createdAt: Date.now() });
  // The put awaited: the copy may have been reset meanwhile (then the reset's reapply writes it too).
  const target = synced.doc.getMap<unknown>(ACTIONS_ROOT);
  if (!target.has(key)) target.set(key, action);
}

/** Paths with actions waiting for the server: opened at start like the message outbox's. */
export async function pendingActionPaths(): Promise<string[]> {
  const rows = await db.actionOutbox.where('state').equals('pending').toArray();
  return [...new Set(rows.map((r) => r.path))];
}

export async function hasPendingActions(path: string): Promise<boolean> {
  return (await db.actionOutbox.where('path').equals(path).filter((r) => r.state === 'pending').count()) > 0;
}

/** Paths whose copy is being rebuilt from the server after a refusal. */
const fresh = new Set<string>();

/** Where `doc` holds an action's item: the Yjs id that an ack's client and clock are compared with. */
function itemIds(doc: Y.Doc): (key: string) => ItemId | undefined {
  const map = doc.getMap<unknown>(ACTIONS_ROOT);
  return (key) => {
    const item = map._map.get(key);
    return item === undefined || item.deleted ? undefined : { client: item.id.client, clock: item.id.clock };
  };
}

/** Call as the ack arrives: the copy it is judged against is the one that sent the update. */
export async function ackActions(synced: SyncedDoc, frame: Extract<ControlFrame, { type: 'ack' }>): Promise<void> {
  const itemOf = itemIds(synced.doc);
  const rows = await db.actionOutbox.where('path').equals(synced.path).toArray();
  const stored = actionsAcked(rows, frame, itemOf);
  if (stored.length > 0) await db.actionOutbox.bulkDelete(stored);
}

/** Fails the refused actions (and takes them out of the materialised table); the hub then resets the copy. */
export async function rejectActions(path: string, frame: Extract<ControlFrame, { type: 'reject' }>): Promise<void> {
  fresh.add(path);
  const rows = await db.actionOutbox.where('path').equals(path).toArray();
  if (rows.length === 0) return;
  const pendingMessages = (await db.outbox.where('path').equals(path).toArray()).filter((m) => m.state === 'pending').map((m) => m.id);
  const refused = actionsRefused(rows, frame, pendingMessages);
  if (refused.length === 0) return;
  await db.transaction('rw', db.actionOutbox, db.actions, async () => {
    await db.actionOutbox.where('key').anyOf(refused).modify({ state: 'failed', code: frame.code });
    await db.actions.bulkDelete(refused);
  });
}

/** After a sync: drops what the server holds, writes again what the copy lacks. */
export async function reapplyActions(synced: SyncedDoc): Promise<void> {
  // A copy rebuilt after a refusal is judged once it has synced (onSynced calls again).
  if (fresh.has(synced.path) && !synced.synced) return;
  const wasFresh = fresh.delete(synced.path);
  const rows = await db.actionOutbox.where('path').equals(synced.path).toArray();
  if (rows.length === 0) return;
  const doc = synced.doc;
  const map = doc.getMap<unknown>(ACTIONS_ROOT);
  const plan = planActionReapply(rows, (key) => map.has(key), wasFresh);
  if (plan.stored.length > 0) await db.actionOutbox.bulkDelete(plan.stored);
  if (plan.write.length === 0) return;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  doc.transact(() => {
    for (const key of plan.write) if (!map.has(key)) map.set(key, byKey.get(key)?.action);
  });
}
