/**
 * What a person does to a message: react (toggle), reply (a message that
 * quotes it), edit (my own text messages), recall (my own, soon after
 * sending), forward (to one or several conversations), pin it in the
 * conversation (both members see it), and, for me alone through prefs, star
 * it and delete it for me (hidden on all my devices). Each is checked here first (so what the server would refuse fails
 * at once, offline too), then written into the message's segment document
 * through the extras outbox (sync/extras.ts): offline it waits there, and goes
 * out with the document when the network returns.
 */
import { LIMITS, MessageEdit, MessagePin, Reaction, conversationId, editKey, pinKey, reactionKey, receiptKey, type Element, type LinkPreview, type ReplyRef } from '@parley/protocol';
import { db, type MessageRow } from '../db.ts';
import { setHidden, setStarred } from '../sync/prefs.ts';
import { session } from '../state/session.svelte.ts';
import { eraseContent, writeExtra } from '../sync/extras.ts';
import { AppError } from '../shared/errors.ts';
import { send, sendBody } from './messaging.ts';
import { currentHub } from './session.ts';

/** The quick reactions of the message menu. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

function me(): string {
  const user = session.user;
  if (user === null) throw new AppError('token-missing');
  return user;
}

async function messageOf(id: string): Promise<MessageRow> {
  const row = await db.messages.get(id);
  if (row === undefined) throw new AppError('message-not-found');
  if (row.recalled !== undefined) throw new AppError('message-recalled');
  return row;
}

/** The message's segment document, loaded; the message must be in it. */
async function docOf(row: MessageRow) {
  const synced = await currentHub().conversationDoc(row.peer, row.segment);
  await synced.ready;
  if (synced.doc.getMap<unknown>('recalls').has(row.id)) throw new AppError('message-recalled');
  if (!synced.doc.getMap<unknown>('messages').has(row.id)) throw new AppError('message-not-found');
  return synced;
}

/** Whether I may still recall this message (mine, accepted, not recalled, within the window). */
export function canRecall(row: Pick<MessageRow, 'from' | 'ts' | 'seq' | 'recalled' | 'type'>, user: string, now = Date.now()): boolean {
  return row.from === user && row.type !== 'system' && row.seq !== null && row.recalled === undefined && now - row.ts <= LIMITS.recallWindowMs;
}

/** Whether I may edit this message (my own text message, not recalled). */
export function canEdit(row: Pick<MessageRow, 'from' | 'type' | 'recalled'>, user: string): boolean {
  return row.from === user && row.type === 'text' && row.recalled === undefined;
}

/** Adds my reaction `emoji` to a message, or takes it back when I reacted so already. */
export async function toggleReaction(msgId: string, emoji: string): Promise<void> {
  const user = me();
  const row = await messageOf(msgId);
  const synced = await docOf(row);
  const key = reactionKey(msgId, user, emoji);
  const held = synced.doc.getMap<unknown>('reactions').get(key);
  if (held !== undefined) {
    await writeExtra(synced, 'reactions', key, msgId, null);
    return;
  }
  const parsed = Reaction.safeParse({ msg: msgId, from: user, emoji, ts: Date.now() });
  if (!parsed.success) throw new AppError('schema-invalid', 'That is not one emoji.');
  await writeExtra(synced, 'reactions', key, msgId, parsed.data);
}

/** Replaces the text of my text message (shown "edited" everywhere). */
export async function editMessage(msgId: string, text: string): Promise<void> {
  const user = me();
  const row = await messageOf(msgId);
  if (!canEdit(row, user)) throw new AppError('not-editable');
  const value = text.trim();
  if (value.length === 0) throw new AppError('schema-invalid', 'An edited message cannot be empty. Recall it instead.');
  if (value === row.text) return;
  if (new TextEncoder().encode(JSON.stringify([{ type: 'text', text: value }])).length > LIMITS.bodyBytes) throw new AppError('body-too-long');
  const synced = await docOf(row);
  const prefix = `${msgId}|`;
  let n = 0;
  for (const key of synced.doc.getMap<unknown>('edits').keys()) {
    if (key.startsWith(prefix)) n = Math.max(n, Number(key.slice(prefix.length)) || 0);
  }
  const edit = MessageEdit.parse({ msg: msgId, from: user, n: n + 1, text: value, ts: Date.now() });
  await writeExtra(synced, 'edits', editKey(msgId, edit.n), msgId, edit);
}

/**
 * Recalls my message: it is erased from every device and from the server's
 * store, and "You recalled a message" stays. Only within the recall window
 * (the server may set a shorter one: its refusal is shown, nothing is lost).
 */
export async function recallMessage(msgId: string): Promise<void> {
  const user = me();
  const row = await messageOf(msgId);
  if (row.from !== user) throw new AppError('not-owner');
  if (row.seq === null) throw new AppError('message-not-found', 'This message has not reached the server yet: delete it instead.');
  if (!canRecall(row, user)) throw new AppError('recall-window-passed');
  const synced = await docOf(row);
  await writeExtra(synced, 'recalls', msgId, msgId, { by: user, ts: Date.now() }, (doc) => eraseContent(doc, msgId));
}

/** Sends a text message quoting another one. */
export function sendReply(peer: string, text: string, reply: ReplyRef, preview?: LinkPreview): Promise<string> {
  return send(peer, text, reply, preview);
}

/** Copies a message's words to the clipboard. */
export async function copyText(text: string): Promise<void> {
  await navigator.clipboard.writeText(text);
}

/** Whether a message can be forwarded: not recalled, not a server notice, not an interactive custom message (its moves belong to its conversation). */
export function canForward(row: Pick<MessageRow, 'type' | 'recalled' | 'body'>): boolean {
  return row.recalled === undefined && row.type !== 'system' && row.type !== 'custom' && row.body.length > 0;
}

/**
 * Forwards a message to each of `peers`: a new message in each conversation,
 * marked `forwarded`, with the same elements. Media is the original's
 * (same hashes): nothing is uploaded again, and the server lets each new peer
 * read it because I may (docs/architecture.md, Media). An edited text goes as
 * its latest text.
 */
export async function forwardMessage(msgId: string, peers: readonly string[]): Promise<string[]> {
  const row = await messageOf(msgId);
  if (!canForward(row)) throw new AppError('schema-invalid', 'This message cannot be forwarded.');
  const body: Element[] = row.edited === true ? [{ type: 'text', text: row.text }] : row.body;
  const ids: string[] = [];
  for (const peer of new Set(peers)) ids.push(await sendBody(peer, structuredClone(body), [], undefined, true));
  return ids;
}

/** "Delete for me": hides the message on all my devices (prefs `hidden`); the peer keeps it. */
export async function hideMessage(msgId: string): Promise<void> {
  const row = await db.messages.get(msgId);
  if (row === undefined) throw new AppError('message-not-found');
  const doc = await currentHub().prefsDoc();
  if (doc !== null) setHidden(doc, msgId, row.peer, true);
}

/** Stars a message (the Starred view) or takes the star back, on all my devices. */
export async function starMessage(msgId: string, starred: boolean): Promise<void> {
  const row = await db.messages.get(msgId);
  if (row === undefined) throw new AppError('message-not-found');
  const doc = await currentHub().prefsDoc();
  if (doc !== null) setStarred(doc, msgId, row.peer, starred);
}

/** Pins a message at the top of its conversation, for both members, or takes my pin back. */
export async function pinMessage(msgId: string, pinned: boolean): Promise<void> {
  const user = me();
  const row = await messageOf(msgId);
  if (row.seq === null) throw new AppError('message-not-found', 'This message has not reached the server yet.');
  const synced = await docOf(row);
  const key = pinKey(msgId, user);
  if (!pinned) {
    if (synced.doc.getMap<unknown>('pins').has(key)) await writeExtra(synced, 'pins', key, msgId, null);
    return;
  }
  await writeExtra(synced, 'pins', key, msgId, MessagePin.parse({ msg: msgId, from: user, ts: Date.now() }));
}

export interface MessageInfo {
  sent: number;
  /** When the server accepted it (stamped), as far as this device knows: null while pending. */
  accepted: boolean;
  delivered: number | null;
  read: number | null;
}

/**
 * When my message was delivered and read: the first rise of the peer's
 * receipt that covered it (receipts hold only the furthest sequence, so this
 * device records each rise with the receipt's own time, or the time it saw it:
 * db.ts `receiptTimes`). A receipt that covers it with no step recorded (seen
 * before this device kept steps) gives no time, only that it happened.
 */
export async function messageInfo(msgId: string): Promise<MessageInfo & { deliveredKnown: boolean; readKnown: boolean }> {
  const row = await db.messages.get(msgId);
  if (row === undefined) throw new AppError('message-not-found');
  const conv = conversationId(row.from, row.to);
  const at = async (kind: 'delivered' | 'read'): Promise<{ ts: number | null; known: boolean }> => {
    if (row.seq === null) return { ts: null, known: false };
    const key = `${conv}|${receiptKey(row.to, kind)}`;
    const receipt = await db.receipts.get(key);
    const covered = (receipt?.seq ?? 0) >= row.seq;
    const step = await db.receiptTimes.where('[key+seq]').between([key, row.seq], [key, Infinity], true, true).first();
    return { ts: covered ? (step?.ts ?? null) : null, known: covered };
  };
  const [delivered, read] = await Promise.all([at('delivered'), at('read')]);
  // Read implies delivered: a read receipt that arrived first (the peer's device read on opening) dates both.
  const deliveredTs = delivered.ts ?? (read.known ? read.ts : null);
  return { sent: row.ts, accepted: row.seq !== null, delivered: deliveredTs, read: read.ts, deliveredKnown: delivered.known || read.known, readKnown: read.known };
}
