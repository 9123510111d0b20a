/**
 * How an outbox entry (db.ts `OutboxEntry`) sits in its segment document:
 * whether the copy holds it, and writing it there. A message is
 * `messages[id]`, an action `actions[key]` (written once, ever), a recall,
 * edit or reaction its `root[docKey]` (null: my item deleted; a recall also
 * takes its message and edits out).
 */
import type * as Y from 'yjs';
import type { ExtraOutboxRow, OutboxEntry } from '../db.ts';

export const ACTIONS_ROOT = 'actions';

/** The message id a key of `edits` (`<msg>|<n>`) or `reactions` (`<msg>|<user>|<emoji>`) is about. */
export function msgOfKey(key: string): string {
  const bar = key.indexOf('|');
  return bar < 0 ? key : key.slice(0, bar);
}

/** Deletes a message and its edits from the copy (a recall's other half). */
export function eraseContent(doc: Y.Doc, msgId: string): void {
  const messages = doc.getMap<unknown>('messages');
  if (messages.has(msgId)) messages.delete(msgId);
  const edits = doc.getMap<unknown>('edits');
  for (const key of edits.keys()) if (msgOfKey(key) === msgId) edits.delete(key);
}

/** Whether the copy holds what a recall, edit or reaction wants there. */
export function reflected(doc: Y.Doc, row: ExtraOutboxRow): boolean {
  const map = doc.getMap<unknown>(row.root);
  if (row.value === null) return !map.has(row.docKey);
  return map.has(row.docKey) && JSON.stringify(map.get(row.docKey)) === JSON.stringify(row.value);
}

/** Writes one entry into the copy (inside the caller's transaction); a key the copy holds is never written twice. */
export function writeEntry(doc: Y.Doc, entry: OutboxEntry): void {
  switch (entry.kind) {
    case 'message': {
      const messages = doc.getMap<unknown>('messages');
      if (!messages.has(entry.id)) messages.set(entry.id, entry.message);
      return;
    }
    case 'action': {
      const actions = doc.getMap<unknown>(ACTIONS_ROOT);
      if (!actions.has(entry.key)) actions.set(entry.key, entry.action);
      return;
    }
    case 'extra': {
      const map = doc.getMap<unknown>(entry.root);
      if (entry.value === null) map.delete(entry.docKey);
      else map.set(entry.docKey, entry.value);
      // A recall takes its message and its edits out in the same update.
      if (entry.root === 'recalls') eraseContent(doc, entry.msg);
      return;
    }
  }
}
