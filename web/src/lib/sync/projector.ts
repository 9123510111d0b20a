/**
 * The projector: the one writer of what the screen shows of messages, the
 * `messages` and `conversations` tables (db.ts). Three sources feed it:
 *
 * - pending: this device's own writes, staged with their outbox entry (a
 *   message row and the list's preview at once, offline too), and removed
 *   with it;
 * - synced: rows built from the documents (lib/sync/conversationProjection.ts,
 *   inboxProjection.ts, extras.ts), which replace any other row of the same id;
 * - pushed: rows the service worker makes from a Web Push (pushed.ts), marked
 *   `pushed`, never over a synced row; the synced row of the same id replaces
 *   them, and a pushed conversation row stays until the inbox reaches its
 *   sequence.
 *
 * Everything else reads these tables; nothing else writes them.
 */
import type { InboxEntry } from '@parley/protocol';
import { db, type BlobRow, type ConversationRow, type MessageRow, type OutboxRow, type ProfileRow, type ReceiptRow, type RelationRow } from '../db.ts';
import { conversationRow } from './materialise.ts';

/** What a conversation's preview says once its last message is recalled. */
export const RECALLED_PREVIEW = 'Message recalled';

// ---- pending: this device's writes --------------------------------------------

/**
 * Stages a write of this device: its outbox entry (and media bytes), its
 * message row (null: not a message this device can show) and the list's
 * preview, in one transaction, before anything else happens to it.
 */
export async function stagePending(
  entry: OutboxRow,
  row: MessageRow | null,
  last: { from: string; preview: string; ts: number; segment: string },
  blobs: readonly BlobRow[] = [],
): Promise<void> {
  await db.transaction('rw', [db.outbox, db.messages, db.conversations, db.blobs], async () => {
    await db.outbox.put(entry);
    if (blobs.length > 0) await db.blobs.bulkPut([...blobs]);
    if (row !== null) await db.messages.put(row);
    const existing = await db.conversations.get(entry.peer);
    await db.conversations.put({
      peer: entry.peer,
      segment: existing?.segment ?? last.segment,
      lastSeq: existing?.lastSeq ?? 0,
      lastId: entry.id,
      lastFrom: last.from,
      preview: last.preview,
      lastTs: last.ts,
      unread: existing?.unread ?? 0,
      updatedAt: last.ts,
    });
  });
}

/** Deletes a message that never reached the server: its entry, its row, its bytes. */
export async function removePending(id: string): Promise<void> {
  await db.transaction('rw', [db.outbox, db.messages, db.blobs], async () => {
    await db.outbox.delete(id);
    await db.messages.delete(id);
    await db.blobs.where('msg').equals(id).delete();
  });
}

// ---- synced: rows from the documents ------------------------------------------

/**
 * A conversation segment's changes: its message rows, its receipts (the
 * conversation's is the furthest of its segments'; each rise also recorded
 * with its time, for message info), and the peer's name when
 * the device knows the peer only from their messages.
 */
export async function projectSegment(rows: readonly MessageRow[], receipts: readonly ReceiptRow[], peer: string, peerNickname: string | undefined): Promise<void> {
  await db.transaction('rw', [db.messages, db.receipts, db.profiles, db.receiptTimes], async () => {
    if (rows.length > 0) await db.messages.bulkPut([...rows]);
    if (peerNickname !== undefined && (await db.profiles.get(peer)) === undefined) {
      await db.profiles.put({ id: peer, nickname: peerNickname });
    }
    const known = await db.receipts.bulkGet(receipts.map((r) => r.id));
    const higher = receipts.filter((r, i) => (known[i]?.seq ?? -1) < r.seq);
    if (higher.length > 0) await db.receipts.bulkPut(higher);
    // Each rise is a step of message info: the messages up to `seq` were delivered (read) then.
    const now = Date.now();
    if (higher.length > 0) await db.receiptTimes.bulkPut(higher.map((r) => ({ id: `${r.id}|${r.seq}`, key: r.id, seq: r.seq, ts: r.ts ?? now })));
  });
}

/** Message rows rebuilt after an edit or a reaction. */
export async function projectMessages(rows: readonly MessageRow[]): Promise<void> {
  if (rows.length > 0) await db.messages.bulkPut([...rows]);
}

/**
 * Recalled messages: their rows are erased to who and when (`build` makes
 * them from the rows held), their outbox entries, media bytes and pending
 * edits and reactions go (those would only be refused; an edit holds its
 * text), and the list's preview says so when one was the last.
 */
export async function projectRecalls(ids: readonly string[], peer: string, build: (held: (MessageRow | undefined)[]) => MessageRow[]): Promise<void> {
  await db.transaction('rw', [db.messages, db.outbox, db.blobs, db.conversations], async () => {
    const rows = build(await db.messages.bulkGet([...ids]));
    await db.outbox.bulkDelete([...ids]);
    await db.blobs.where('msg').anyOf([...ids]).delete();
    await db.outbox
      .where('msg')
      .anyOf([...ids])
      .filter((r) => r.kind === 'extra' && r.root !== 'recalls')
      .delete();
    const conversation = await db.conversations.get(peer);
    if (conversation?.lastId !== undefined && ids.includes(conversation.lastId) && conversation.preview !== RECALLED_PREVIEW) {
      await db.conversations.update(peer, { preview: RECALLED_PREVIEW });
    }
    await db.messages.bulkPut(rows);
  });
}

/**
 * The inbox's changes: conversation rows (except over a row a push wrote that
 * is ahead of this, possibly stale, copy until the inbox reaches its
 * sequence), profiles and relations. Resolves to the conversation rows held
 * before, in the order of `conversations`.
 */
export async function projectInbox(
  conversations: readonly ConversationRow[],
  profiles: readonly ProfileRow[],
  relationPuts: readonly RelationRow[],
  relationDeletes: readonly string[],
): Promise<(ConversationRow | undefined)[]> {
  return db.transaction('rw', [db.conversations, db.profiles, db.relations], async () => {
    const held = await db.conversations.bulkGet(conversations.map((r) => r.peer));
    await db.conversations.bulkPut(conversations.filter((r, i) => !(held[i]?.pushed === true && (held[i]?.lastSeq ?? 0) > r.lastSeq)));
    await db.profiles.bulkPut([...profiles]);
    await db.relations.bulkDelete([...relationDeletes]);
    await db.relations.bulkPut([...relationPuts]);
    return held;
  });
}

// ---- pushed: rows from a Web Push (the service worker) ------------------------

/**
 * A pushed message: its row (null with previews off), the sender's profile
 * when the device has none, and its conversation's row one message further,
 * unless the device holds the message already or the conversation that far.
 */
export async function projectPushed(
  push: { id: string; seq: number; peer: string; entry: (known: ConversationRow | undefined) => InboxEntry },
  row: MessageRow | null,
  profile: ProfileRow | null,
): Promise<void> {
  await db.transaction('rw', [db.messages, db.conversations, db.profiles], async () => {
    // Synced already, or pushed twice: nothing new.
    if ((await db.messages.get(push.id)) !== undefined) return;
    if (row !== null) await db.messages.put({ ...row, pushed: true });
    if (profile !== null && (await db.profiles.get(push.peer)) === undefined) await db.profiles.put(profile);
    const known = await db.conversations.get(push.peer);
    if (known !== undefined && known.lastSeq >= push.seq) return;
    const conversation = conversationRow(push.entry(known));
    if (conversation !== null) await db.conversations.put({ ...conversation, pushed: true });
  });
}

/** A pushed recall removes a pushed row (a synced one is left to sync) and says so in the preview. */
export async function projectPushedRecall(id: string, peer: string): Promise<void> {
  await db.transaction('rw', [db.messages, db.conversations], async () => {
    const held = await db.messages.get(id);
    const wasPushed = held?.pushed === true;
    if (wasPushed) await db.messages.delete(id);
    const known = await db.conversations.get(peer);
    if (known === undefined) return;
    const changes: { preview?: string; recalledBy?: string; unread?: number } = {};
    // The push of a recall is about the sender's message (an admin's recall is worded as such once the inbox syncs).
    if (known.lastId === id) Object.assign(changes, { preview: RECALLED_PREVIEW, recalledBy: peer });
    if (wasPushed && known.unread > 0) changes.unread = known.unread - 1;
    if (Object.keys(changes).length > 0) await db.conversations.update(peer, changes);
  });
}
