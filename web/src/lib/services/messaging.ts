/**
 * Writing messages. A message goes into the outbox (plain data: it survives a
 * reload or a closed tab) and into its conversation's segment document; the
 * hub sends it, and empties or fails the outbox entry on the server's answer.
 * `checkMessage` runs first, so that what the server would refuse fails here,
 * offline, at once.
 */
import {
  checkMessage,
  conversationId,
  conversationPath,
  isUserId,
  parseDocPath,
  segmentOf,
  type ErrorCode,
  type Message,
} from '@parley/protocol';
import { db, type OutboxRow } from '../db.ts';
import { randomId } from '../ids.ts';
import { session } from '../state/session.svelte.ts';
import { messageRow } from '../sync/materialise.ts';
import { AppError, codeOf } from './errors.ts';
import { currentHub, fetchProfile } from './session.ts';

/** Typing clears after this long without a keystroke. */
const TYPING_IDLE_MS = 3000;

function me(): string {
  const user = session.user;
  if (user === null) throw new AppError('token-missing');
  return user;
}

function composeMessage(peer: string, text: string): Message {
  const profile = session.current?.profile;
  const ts = Date.now();
  return {
    id: randomId(),
    from: me(),
    to: peer,
    type: 'text',
    body: [{ type: 'text', text }],
    ts,
    profile: profile?.avatar === undefined ? { nickname: profile?.nickname ?? me() } : { nickname: profile.nickname, avatar: profile.avatar },
  };
}

/** Stores the write locally (outbox, message row, list preview) before anything else. */
async function stage(message: Record<string, unknown> & { id: string }, path: string, peer: string, failed?: ErrorCode): Promise<void> {
  const user = me();
  const row = messageRow(message, undefined, user);
  const ts = typeof message.ts === 'number' ? message.ts : Date.now();
  const outbox: OutboxRow = {
    id: message.id,
    path,
    conv: conversationId(user, peer),
    peer,
    message,
    state: failed === undefined ? 'pending' : 'failed',
    createdAt: Date.now(),
  };
  if (failed !== undefined) outbox.code = failed;
  await db.transaction('rw', db.outbox, db.messages, db.conversations, async () => {
    await db.outbox.put(outbox);
    if (row !== null) await db.messages.put(row);
    const preview = row?.text.slice(0, 120) ?? '';
    const existing = await db.conversations.get(peer);
    await db.conversations.put({
      peer,
      segment: existing?.segment ?? segmentOf(ts),
      lastSeq: existing?.lastSeq ?? 0,
      lastId: message.id,
      lastFrom: user,
      preview,
      lastTs: ts,
      unread: existing?.unread ?? 0,
      updatedAt: ts,
    });
  });
}

/** Writes the message into its segment document (never twice). */
async function write(message: { id: string }, peer: string, segment: string): Promise<void> {
  const synced = await currentHub().conversationDoc(peer, segment);
  const messages = synced.doc.getMap<unknown>('messages');
  if (!messages.has(message.id)) messages.set(message.id, message);
}

/** Sends a text message; returns its id. A local refusal shows as failed with its code. */
export async function send(peer: string, text: string): Promise<string> {
  if (!isUserId(peer)) throw new AppError('user-not-found');
  const message = composeMessage(peer, text);
  const segment = segmentOf(message.ts);
  const path = conversationPath(message.from, peer, segment);
  const doc = parseDocPath(path);
  let failed: ErrorCode | undefined;
  try {
    if (doc?.kind !== 'conversation') throw new AppError('wrong-conversation');
    checkMessage(message, message.from, doc);
  } catch (e) {
    const code = codeOf(e);
    failed = code === 'unexpected' || code === 'network' || code === 'offline' ? 'schema-invalid' : code;
  }
  await stage(message, path, peer, failed);
  if (failed === undefined) await write(message, peer, segment);
  setTyping(peer, false);
  return message.id;
}

/**
 * For developers and tests: writes `message` into the conversation with
 * `peer` as given, without the local check, to see how a server refusal shows.
 */
export async function writeUnchecked(peer: string, message: unknown): Promise<string> {
  const value = { ...(message as Record<string, unknown>) };
  if (typeof value.id !== 'string') value.id = randomId();
  const ts = typeof value.ts === 'number' ? value.ts : Date.now();
  const segment = segmentOf(ts);
  const staged = value as Record<string, unknown> & { id: string };
  await stage(staged, conversationPath(me(), peer, segment), peer);
  await write(staged, peer, segment);
  return staged.id;
}

/** Sends a failed message's text again as a new message, and drops the failed one. */
export async function retry(id: string): Promise<void> {
  const entry = await db.outbox.get(id);
  const row = await db.messages.get(id);
  if (entry === undefined || row === undefined) return;
  await remove(id);
  await send(entry.peer, row.text);
}

/** Deletes a message that never reached the server. */
export async function remove(id: string): Promise<void> {
  await db.transaction('rw', db.outbox, db.messages, async () => {
    await db.outbox.delete(id);
    await db.messages.delete(id);
  });
}

/** Starts a conversation: checks the id, caches the peer's profile when online. */
export async function startChat(peer: string): Promise<void> {
  if (!isUserId(peer)) throw new AppError('user-not-found');
  if (peer === me()) throw new AppError('wrong-conversation', 'You cannot chat with yourself.');
  if (navigator.onLine) {
    try {
      await fetchProfile(peer);
    } catch (e) {
      if (codeOf(e) === 'user-not-found') throw e;
    }
  }
}

/** The conversation on screen (null for none): its documents stay open and it gets read. */
export function openConversation(peer: string | null): void {
  void currentHub().openConversation(peer);
}

let typingTimer: ReturnType<typeof setTimeout> | undefined;

/** Composing shows "typing…" to the peer until sent or idle for a few seconds. */
export function setTyping(peer: string, typing: boolean): void {
  clearTimeout(typingTimer);
  try {
    currentHub().setTyping(peer, typing);
  } catch {
    return;
  }
  if (typing) typingTimer = setTimeout(() => setTyping(peer, false), TYPING_IDLE_MS);
}
