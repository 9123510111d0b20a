/**
 * Actions on custom messages in the sync layer: materialising a conversation
 * document's `actions` map into the `actions` table, and writing one through
 * the outbox (lib/sync/outbox.ts), which gives an action the durability of a
 * message: kept as plain data until the server acknowledges it, written again
 * after a reset or a reload, failed (and shown) when refused (the decisions
 * are in actionPlan.ts).
 */
import * as Y from 'yjs';
import { MessageAction, actionKey, type ErrorCode } from '@parley/protocol';
import { db, outboxId, type ActionRow } from '../db.ts';
import { record } from './outbox.ts';
import { ACTIONS_ROOT } from './outboxDoc.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export { ACTIONS_ROOT };

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
  await record({ id: outboxId('action', key), kind: 'action', key, path: synced.path, msg: action.msg, action, state: 'pending', createdAt: Date.now() });
  // The put awaited: the copy may have been reset meanwhile (then the reset's reapply writes it too).
  const target = synced.doc.getMap<unknown>(ACTIONS_ROOT);
  if (!target.has(key)) target.set(key, action);
}
