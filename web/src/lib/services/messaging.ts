/**
 * Writing messages. A message goes into the outbox (plain data: it survives a
 * reload or a closed tab), shown at once (sync/projector.ts stages its row),
 * and into its conversation's segment document; the hub sends it, and empties
 * or fails the outbox entry on the server's answer (sync/outbox.ts).
 * `checkMessage` runs first, so that what the server would refuse fails here,
 * offline, at once. A media message also keeps its bytes on the device
 * (`blobs`) and waits in the outbox until they are uploaded
 * (media/outbox.ts); it shows at once all the same.
 */
import {
  checkMessage,
  conversationId,
  conversationPath,
  cleanNickname,
  isAvatarUrl,
  isErrorCode,
  isUserId,
  parseDocPath,
  segmentOf,
  previewOfBody,
  type Element,
  type ErrorCode,
  type LinkPreview,
  type Message,
  ReplyRef,
} from '@parley/protocol';
import { db, type BlobRow, type OutboxRow } from '../db.ts';
import { randomId } from '../shared/ids.ts';
import { session } from '../state/session.svelte.ts';
import { bodyOf, messageRow } from '../sync/materialise.ts';
import { removePending, stagePending } from '../sync/projector.ts';
import type { Attachment, Prepared, PreparedBlob } from '../media/capture.ts';
import { AppError, codeOf, report } from '../shared/errors.ts';
import { mediaOutbox } from '../media/outboxLoader.ts';
import { currentHub, fetchProfile } from './session.ts';

/** Typing clears after this long without a keystroke. */
const TYPING_IDLE_MS = 3000;

function me(): string {
  const user = session.user;
  if (user === null) throw new AppError('token-missing');
  return user;
}

/** A message's type is the type of its main element: the first that is not text (a caption). */
function typeOf(body: readonly Element[]): Message['type'] {
  return (body.find((e) => e.type !== 'text') ?? body[0])?.type ?? 'text';
}

function composeMessage(peer: string, body: Element[], reply?: ReplyRef, forwarded = false): Message {
  const profile = session.current?.profile;
  // A nickname stored before nicknames were cleaned is sent cleaned (the server refuses any other with nickname-invalid).
  const nickname = (profile === undefined ? null : cleanNickname(profile.nickname)) ?? me();
  const ts = Date.now();
  return {
    id: randomId(),
    from: me(),
    to: peer,
    type: typeOf(body),
    body,
    ts,
    // Only an avatar uploaded to Parley goes in a message (the server refuses any other with avatar-invalid).
    profile: profile?.avatar === undefined || !isAvatarUrl(profile.avatar) ? { nickname } : { nickname, avatar: profile.avatar },
    ...(reply === undefined ? {} : { reply }),
    ...(forwarded ? { forwarded: true as const } : {}),
  };
}

/**
 * Stores the write locally (outbox, message row, list preview, media bytes)
 * before anything else. With `blobs`, the entry waits for its uploads.
 */
async function stage(message: Record<string, unknown> & { id: string }, path: string, peer: string, failed?: ErrorCode, blobs: readonly PreparedBlob[] = []): Promise<void> {
  const user = me();
  const row = messageRow(message, undefined, user);
  const reply = ReplyRef.safeParse(message.reply);
  if (row !== null && reply.success) row.reply = reply.data;
  const ts = typeof message.ts === 'number' ? message.ts : Date.now();
  const outbox: OutboxRow = {
    id: message.id,
    path,
    conv: conversationId(user, peer),
    kind: 'message',
    peer,
    message,
    state: failed === undefined ? 'pending' : 'failed',
    createdAt: Date.now(),
  };
  if (failed !== undefined) outbox.code = failed;
  if (blobs.length > 0) outbox.uploads = 'pending';
  const blobRows = blobs.map((b): BlobRow => ({ id: `${message.id}|${b.hash}`, msg: message.id, hash: b.hash, blob: b.blob, mime: b.mime, kind: b.kind, peer, ...(b.name === undefined ? {} : { name: b.name }), done: false }));
  const preview = row === null ? '' : row.body.length > 0 ? previewOfBody(row.body) : row.text.slice(0, 120);
  await stagePending(outbox, row, { from: user, preview, ts, segment: segmentOf(ts) }, blobRows);
}

/** Writes the message into its segment document (never twice). */
async function write(message: { id: string }, peer: string, segment: string): Promise<void> {
  const synced = await currentHub().conversationDoc(peer, segment);
  // After a slow-down the outbox holds it; the hub writes it when the wait is over.
  if (currentHub().isWaiting(synced.path)) return;
  const messages = synced.doc.getMap<unknown>('messages');
  if (!messages.has(message.id)) messages.set(message.id, message);
}

/** Sends a text message (quoting `reply`); returns its id. A local refusal shows as failed with its code. */
/** Sends a text; `preview`: the card of its first link, as the server made it while it was written. */
export function send(peer: string, text: string, reply?: ReplyRef, preview?: LinkPreview): Promise<string> {
  return sendBody(peer, [preview === undefined ? { type: 'text', text } : { type: 'text', text, preview }], [], reply);
}

/**
 * Sends a message with any body; returns its id. With `blobs` (the bytes its
 * media references), it waits in the outbox until they are uploaded.
 * `forwarded`: the body is another message's (its media references too, so
 * nothing is uploaded again: services/messageActions.ts `forwardMessage`).
 */
export async function sendBody(peer: string, body: Element[], blobs: readonly PreparedBlob[] = [], reply?: ReplyRef, forwarded = false): Promise<string> {
  if (!isUserId(peer)) throw new AppError('user-not-found');
  const message = composeMessage(peer, body, reply, forwarded);
  const segment = segmentOf(message.ts);
  const path = conversationPath(message.from, peer, segment);
  const doc = parseDocPath(path);
  let failed: ErrorCode | undefined;
  try {
    if (doc?.kind !== 'conversation') throw new AppError('wrong-conversation');
    checkMessage(message, message.from, doc);
  } catch (e) {
    const code = codeOf(e);
    // The app's own codes (an unexpected error) are no refusal a message can carry: said as malformed.
    failed = isErrorCode(code) ? code : 'schema-invalid';
  }
  await stage(message, path, peer, failed, blobs);
  if (failed === undefined && blobs.length > 0) mediaOutbox.kick();
  else if (failed === undefined) await write(message, peer, segment);
  setTyping(peer, false);
  return message.id;
}

/**
 * Sends a photo, video, file, voice message or location. The bytes are
 * measured, thumbnailed and hashed on the device first; a picture or video
 * this browser cannot open goes as a file.
 */
export async function sendAttachment(peer: string, attachment: Attachment): Promise<string> {
  // Measuring, thumbnailing and hashing load with the first attachment, out of the initial JS.
  const { prepare, Undecodable } = await import('../media/capture.ts');
  let prepared: Prepared;
  try {
    prepared = await prepare(attachment);
  } catch (e) {
    if (!(e instanceof Undecodable && (attachment.kind === 'image' || attachment.kind === 'video'))) throw e;
    report(e);
    prepared = await prepare({ kind: 'file', file: attachment.file });
  }
  return sendBody(peer, [prepared.element], prepared.blobs);
}

/** Sends files picked, pasted or dropped: pictures as photos, videos as videos, the rest as files. */
export async function sendFiles(peer: string, files: readonly File[]): Promise<void> {
  const { kindOfFile } = await import('../media/capture.ts');
  for (const file of files) {
    try {
      await sendAttachment(peer, { kind: kindOfFile(file), file });
    } catch (e) {
      report(e);
    }
  }
}

/**
 * Sends the photos and videos of a preview: each its own message, in the
 * order shown, the caption with the first; photos resized and re-encoded
 * unless `original`. One that fails is reported and the rest still go.
 */
export async function sendMedia(peer: string, items: readonly { file: File; kind: 'image' | 'video' }[], caption: string, original: boolean): Promise<void> {
  for (const [i, { file, kind }] of items.entries()) {
    const text = i === 0 && caption.length > 0 ? caption : undefined;
    try {
      await sendAttachment(peer, kind === 'image' ? { kind, file, caption: text, original } : { kind, file, caption: text });
    } catch (e) {
      report(e);
    }
  }
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

/**
 * Tries a failed message again (or, held back after a `slow-down`, sends it
 * now rather than after the wait). One that never left the device (its upload
 * failed) uploads again as it is; one the server refused is sent again as a
 * new message (its media, uploaded already, is referenced again), and the
 * failed one dropped.
 */
export async function retry(id: string): Promise<void> {
  const entry = await db.outbox.get(id);
  const row = await db.messages.get(id);
  if (entry?.kind !== 'message' || row === undefined) return;
  if (entry.state === 'pending' && entry.code === 'slow-down') {
    // Held back after a slow-down: send now rather than after the wait.
    await currentHub().sendNow(entry.path);
    return;
  }
  if (entry.uploads === 'pending') {
    await db.outbox.update(id, { state: 'pending', code: undefined, reason: undefined });
    mediaOutbox.kick();
    return;
  }
  const written = bodyOf((entry.message as { body?: unknown } | null)?.body);
  const body = written.length > 0 ? written : row.body;
  await remove(id);
  await sendBody(entry.peer, body.length > 0 ? body : [{ type: 'text', text: row.text }]);
}

/** Deletes a message that never reached the server (cancelling its uploads). */
export async function remove(id: string): Promise<void> {
  await mediaOutbox.abort(id);
  await removePending(id);
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
