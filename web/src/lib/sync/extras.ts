/**
 * Recalls, edits, reactions and replies in the sync layer: what a conversation
 * document's `recalls`, `edits` and `reactions` maps (and a message's `reply`)
 * make of its message rows, its `pins` (the `messagePins` table), the erasure a recall asks of this device, and
 * writing this device's own such writes through the outbox (lib/sync/outbox.ts),
 * which keeps them until the server acknowledges them.
 *
 * - A message row is the message as the document holds it, with its latest
 *   edit (highest n, by its sender, of a text message: `edited`), its reply
 *   reference and its reactions (emoji → who). The work per change is the
 *   change's: in-memory indexes (message id → its edit and reaction keys) are
 *   kept from the maps' events, never rescanned.
 * - A recall erases: the row keeps only who, when and where (`recalled`), its
 *   body, text and search words emptied; the outbox, media bytes and pending
 *   edits of that message go; the conversation's preview says so; and the
 *   document is compacted at once (a garbage-collected copy, so the stored
 *   updates no longer hold the text).
 * - The outbox: an entry holds the key and the value to hold there (null:
 *   delete my item) and where its item sits in the copy (client id, clock
 *   after it). An `ack` of that client at or past that clock stored it (a
 *   delete-only update is acked with client 0: it stores pending deletions
 *   of that document). A `reject` that names no pending message of this
 *   device fails the pending entries (shown to the user; a refused recall
 *   leaves the message as it was, since the copy is reset from the server).
 *   After a reset, an entry the server's copy reflects is stored; the others
 *   are written again.
 */
import * as Y from 'yjs';
import { MessageEdit, MessagePin, Reaction, Recall, ReplyRef, conversationId, editKey, pinKey, reactionKey } from '@parley/protocol';
import { db, outboxId, type ExtraOutboxRow, type MessagePinRow, type MessageRow } from '../db.ts';
import { messageRow } from './materialise.ts';
import { record } from './outbox.ts';
import { projectMessages, projectRecalls } from './projector.ts';
import { eraseContent, msgOfKey } from './outboxDoc.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export { eraseContent, msgOfKey };

export type ExtraRoot = 'recalls' | 'edits' | 'reactions' | 'pins';

/** A pin's row, or null when the key holds none (unpinned, or malformed: a value that does not match its key). */
export function messagePinRow(conv: string, key: string, value: unknown): MessagePinRow | null {
  const parsed = MessagePin.safeParse(value);
  if (!parsed.success || pinKey(parsed.data.msg, parsed.data.from) !== key) return null;
  return { key: `${conv}|${key}`, conv, msg: parsed.data.msg, from: parsed.data.from, ts: parsed.data.ts };
}


/** The latest valid edit of a text message among `values` (the edits of that message). */
export function latestEdit(msg: { id: string; from: string; type: string }, values: Iterable<[string, unknown]>): MessageEdit | null {
  if (msg.type !== 'text') return null;
  let best: MessageEdit | null = null;
  for (const [key, value] of values) {
    const parsed = MessageEdit.safeParse(value);
    if (!parsed.success) continue;
    const e = parsed.data;
    if (e.msg !== msg.id || e.from !== msg.from || editKey(e.msg, e.n) !== key) continue;
    if (best === null || e.n > best.n) best = e;
  }
  return best;
}

/** Reactions of one message: each emoji with who reacted, in order of first reaction. */
export function reactionList(msgId: string, values: Iterable<[string, unknown]>): { emoji: string; users: string[] }[] {
  const valid: Reaction[] = [];
  for (const [key, value] of values) {
    const parsed = Reaction.safeParse(value);
    if (!parsed.success) continue;
    const r = parsed.data;
    if (r.msg !== msgId || reactionKey(r.msg, r.from, r.emoji) !== key) continue;
    valid.push(r);
  }
  valid.sort((a, b) => a.ts - b.ts);
  const byEmoji = new Map<string, string[]>();
  for (const r of valid) {
    const users = byEmoji.get(r.emoji) ?? [];
    if (!users.includes(r.from)) users.push(r.from);
    byEmoji.set(r.emoji, users);
  }
  return [...byEmoji].map(([emoji, users]) => ({ emoji, users }));
}

/**
 * The row of a recalled message: who and when, nothing of its content. From
 * the row this device held, or, when it held none, from the recall alone.
 */
export function recalledRow(id: string, recall: Recall, held: MessageRow | undefined, seq: unknown, me: string, peer: string, segment: string): MessageRow | null {
  const from = held?.from ?? (recall.by === '@admin' ? peer : recall.by);
  const to = held?.to ?? (from === me ? peer : me);
  const value = { id, from, to, type: 'text', body: [], ts: held?.ts ?? recall.ts, profile: { nickname: held?.nickname ?? from } };
  const row = messageRow(value, seq ?? held?.seq, me, held?.segment ?? segment);
  return row === null ? null : { ...row, recalled: { by: recall.by, ts: recall.ts } };
}

export interface ExtrasContext {
  me: string;
  peer: string;
  segment: string;
  synced: SyncedDoc;
  /**
   * Compacts the user's own documents that may have held the recalled text:
   * the inbox (its stored updates hold earlier previews) and the prefs
   * document (a draft of the message, saved while it was typed and cleared
   * when it was sent, stays in its stored updates until it is compacted).
   */
  compactInbox: () => Promise<void>;
  error: (e: unknown) => void;
}

/** Conversations with a recall whose inbox entry the server has yet to rewrite (then the inbox is compacted again). */
const inboxAfterRecall = new Set<string>();

/**
 * The hub tells which inbox entries changed: true when one of them follows a
 * recall, so the inbox document is to be compacted (its old preview erased).
 */
export function inboxChangedAfterRecall(peers: Iterable<string>): boolean {
  let hit = false;
  for (const peer of peers) if (inboxAfterRecall.delete(peer)) hit = true;
  return hit;
}

export interface Extras {
  /** The row of message `id` as the document holds it (with edit, reply and reactions), or null. */
  rowOf(id: string): MessageRow | null;
  detach(): void;
}

/** Adds `key` to (or takes it out of) the index of its message. */
function index(map: Map<string, Set<string>>, key: string, present: boolean): void {
  const msg = msgOfKey(key);
  let keys = map.get(msg);
  if (present) {
    if (keys === undefined) map.set(msg, (keys = new Set()));
    keys.add(key);
  } else if (keys !== undefined) {
    keys.delete(key);
    if (keys.size === 0) map.delete(msg);
  }
}

/**
 * Observes a conversation document's `recalls`, `edits` and `reactions`
 * maps and keeps the affected message rows current. The hub builds its rows
 * with `rowOf`, so a message arriving after its edit or reactions has them.
 */
export function attachExtras(doc: Y.Doc, ctx: ExtrasContext): Extras {
  const { me, peer, segment } = ctx;
  const messages = doc.getMap<unknown>('messages');
  const seqs = doc.getMap<unknown>('seq');
  const recalls = doc.getMap<unknown>('recalls');
  const edits = doc.getMap<unknown>('edits');
  const reactions = doc.getMap<unknown>('reactions');
  const pins = doc.getMap<unknown>('pins');
  const conv = conversationId(me, peer);
  /** Pin keys to write into `messagePins` (all of them at attach). */
  const dirtyPins = new Set<string>(pins.keys());
  const editsOf = new Map<string, Set<string>>();
  const reactionsOf = new Map<string, Set<string>>();
  for (const key of edits.keys()) index(editsOf, key, true);
  for (const key of reactions.keys()) index(reactionsOf, key, true);

  // Every recall counts as new at attach: one whose erasure did not finish (a closed tab) is finished now.
  const dirtyRecalls = new Set<string>(recalls.keys());
  const dirty = new Set<string>();

  const rowOf = (id: string): MessageRow | null => {
    const value = messages.get(id);
    let row = messageRow(value, seqs.get(id), me, segment);
    if (row === null) return null;
    // Most messages have no edit, reply or reaction: nothing more to do for them.
    const editKeys = editsOf.get(id);
    if (editKeys !== undefined) {
      const edit = latestEdit(row, [...editKeys].map((k) => [k, edits.get(k)]));
      if (edit !== null) {
        const edited = messageRow({ ...(value as object), body: [{ type: 'text', text: edit.text }] }, seqs.get(id), me, segment);
        if (edited !== null) row = { ...edited, edited: true };
      }
    }
    const replyValue = (value as { reply?: unknown }).reply;
    if (replyValue !== undefined) {
      const reply = ReplyRef.safeParse(replyValue);
      if (reply.success) row.reply = reply.data;
    }
    const reactionKeys = reactionsOf.get(id);
    if (reactionKeys !== undefined) {
      const list = reactionList(id, [...reactionKeys].map((k) => [k, reactions.get(k)]));
      if (list.length > 0) row.reactions = list;
    }
    return row;
  };

  const onRecalls = (event: Y.YMapEvent<unknown>): void => {
    for (const key of event.keysChanged as Set<string>) dirtyRecalls.add(key);
  };
  const onEdits = (event: Y.YMapEvent<unknown>): void => {
    for (const key of event.keysChanged as Set<string>) {
      index(editsOf, key, edits.has(key));
      dirty.add(msgOfKey(key));
    }
  };
  const onReactions = (event: Y.YMapEvent<unknown>): void => {
    for (const key of event.keysChanged as Set<string>) {
      index(reactionsOf, key, reactions.has(key));
      dirty.add(msgOfKey(key));
    }
  };

  const onPins = (event: Y.YMapEvent<unknown>): void => {
    for (const key of event.keysChanged as Set<string>) dirtyPins.add(key);
  };

  const flushPins = (): void => {
    if (dirtyPins.size === 0) return;
    const keys = [...dirtyPins];
    dirtyPins.clear();
    const rows = keys.flatMap((key) => messagePinRow(conv, key, pins.get(key)) ?? []);
    const gone = keys.filter((key) => !rows.some((r) => r.key === `${conv}|${key}`)).map((key) => `${conv}|${key}`);
    db.transaction('rw', db.messagePins, async () => {
      await db.messagePins.bulkDelete(gone);
      await db.messagePins.bulkPut(rows);
    }).catch(ctx.error);
  };

  const flush = (): void => {
    flushPins();
    if (dirty.size === 0 && dirtyRecalls.size === 0) return;
    const recalled = [...dirtyRecalls].flatMap((id) => {
      const parsed = Recall.safeParse(recalls.get(id));
      return parsed.success ? [[id, parsed.data] as const] : [];
    });
    dirtyRecalls.clear();
    const recalledIds = new Set(recalled.map(([id]) => id));
    const rows = [...dirty].filter((id) => !recalledIds.has(id) && !recalls.has(id)).flatMap((id) => rowOf(id) ?? []);
    dirty.clear();
    if (rows.length > 0) projectMessages(rows).catch(ctx.error);
    if (recalled.length > 0) void erase(recalled).catch(ctx.error);
  };

  /**
   * Erases recalled messages from this device. The document is compacted
   * first and the row erased last, so a row still holding its text (a tab
   * closed half way) means the erasure is to be done again at the next attach.
   */
  async function erase(recalled: (readonly [string, Recall])[]): Promise<void> {
    const ids = recalled.map(([id]) => id);
    const seqOf = new Map(ids.map((id) => [id, seqs.get(id)]));
    const isErased = (row: MessageRow | undefined, r: Recall): boolean => row?.recalled?.ts === r.ts && row.text === '' && row.body.length === 0;
    const before = await db.messages.bulkGet(ids);
    if (recalled.every(([, r], i) => isErased(before[i], r))) return;
    // The stored updates still hold what was recalled: one snapshot of the (GC'd) copy replaces them.
    await ctx.synced.compact();
    await projectRecalls(ids, peer, (held) => recalled.flatMap(([id, r], i) => recalledRow(id, r, held[i], seqOf.get(id), me, peer, segment) ?? []));
    // The inbox's stored updates hold earlier previews (and the prefs document's an earlier draft): compacted
    // now, and the inbox again once the server rewrote the entry.
    inboxAfterRecall.add(peer);
    await ctx.compactInbox();
  }

  recalls.observe(onRecalls);
  edits.observe(onEdits);
  reactions.observe(onReactions);
  pins.observe(onPins);
  doc.on('afterTransaction', flush);
  flush();
  return {
    rowOf,
    detach: () => {
      recalls.unobserve(onRecalls);
      edits.unobserve(onEdits);
      reactions.unobserve(onReactions);
      pins.unobserve(onPins);
      doc.off('afterTransaction', flush);
    },
  };
}

// ---- the outbox --------------------------------------------------------------

/**
 * Writes my `value` at `root[docKey]` (null deletes my item there) after
 * recording it in the outbox; `msg` is the message it is about.
 */
export async function writeExtra(synced: SyncedDoc, root: ExtraRoot, docKey: string, msg: string, value: unknown, also?: (doc: Y.Doc) => void): Promise<void> {
  // Recorded first (an ack may come back before a later put): a set adds one struct of length 1 to my client.
  const before = synced.doc;
  const key = `${root}|${docKey}`;
  const row: ExtraOutboxRow = {
    id: outboxId('extra', key),
    kind: 'extra',
    key,
    path: synced.path,
    root,
    docKey,
    msg,
    value,
    state: 'pending',
    client: before.clientID,
    clock: Y.getState(before.store, before.clientID) + (value === null ? 0 : 1),
    createdAt: Date.now(),
  };
  await record(row);
  // The put awaited: the copy may have been reset meanwhile (then the outbox writes it again after the resync).
  const doc = synced.doc;
  if (doc !== before) return;
  doc.transact(() => {
    const map = doc.getMap<unknown>(root);
    if (value === null) map.delete(docKey);
    else map.set(docKey, value);
    also?.(doc);
  });
}
