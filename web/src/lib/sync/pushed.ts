/**
 * What a Web Push leaves on the device, written by the service worker so
 * that the app opened offline shows the message:
 *
 * - the message, as the row `messageRow` makes from the same fields, marked
 *   `pushed` (possibly only its preview; with previews off there is no text
 *   and no row). Sync later writes the message's own row over it: same id, so
 *   no duplicate. The hub does not count pushed rows as synced, so the
 *   conversation's segment is still fetched;
 * - its conversation's row (as `conversationRow` makes it from an inbox
 *   entry), marked `pushed`: last message, sequence and one more unread. The
 *   hub keeps it over the device's older inbox copy, until the inbox's own
 *   row reaches that sequence;
 * - the sender's profile, when the device has none.
 *
 * A recall removes a pushed row (a synced one is left to sync).
 */
import { parseDocPath, segmentOf, type InboxEntry, type PushPayload } from '@parley/protocol';
import { db, getMeta } from '../db.ts';
import { conversationRow, messageRow, profileRow } from './materialise.ts';

const RECALLED = 'Message recalled';

/** The signed-in user of this device, when the push is about one of their conversations. */
export async function recipientOf(payload: PushPayload): Promise<string | null> {
  const me = await getMeta<string>('owner');
  if (me === undefined || me === payload.peer) return null;
  const doc = parseDocPath(payload.doc);
  if (doc?.kind !== 'conversation') return null;
  const members = [doc.a, doc.b];
  return members.includes(me) && members.includes(payload.peer) ? me : null;
}

export async function storePushed(payload: PushPayload, me: string): Promise<void> {
  if (payload.kind === 'recall') {
    await storeRecall(payload);
    return;
  }
  const { message: m, sender, peer } = payload;
  const doc = parseDocPath(payload.doc);
  const segment = doc?.kind === 'conversation' ? doc.segment : segmentOf(m.ts);
  const body = m.body ?? (m.preview !== undefined && m.preview !== '' ? [{ type: 'text' as const, text: m.preview }] : undefined);
  const value = {
    id: m.id,
    from: sender.id,
    to: me,
    // Without its body the message is its preview, in words.
    type: m.body === undefined ? 'text' : m.type,
    body,
    ts: m.ts,
    profile: sender.avatar === undefined ? { nickname: sender.nickname } : { nickname: sender.nickname, avatar: sender.avatar },
  };
  const row = body === undefined ? null : messageRow(value, m.seq, me, segment);
  const profile = profileRow({ id: sender.id, nickname: sender.nickname, ...(sender.avatar === undefined ? {} : { avatar: sender.avatar }) });

  await db.transaction('rw', [db.messages, db.conversations, db.profiles], async () => {
    // Synced already, or pushed twice: nothing new.
    if ((await db.messages.get(m.id)) !== undefined) return;
    if (row !== null) await db.messages.put({ ...row, pushed: true });
    if (profile !== null && (await db.profiles.get(peer)) === undefined) await db.profiles.put(profile);
    const known = await db.conversations.get(peer);
    if (known !== undefined && known.lastSeq >= m.seq) return;
    const entry: InboxEntry = {
      peer,
      segment,
      lastSeq: m.seq,
      last: { id: m.id, from: sender.id, preview: m.preview ?? row?.text.slice(0, 120) ?? 'New message', ts: m.ts, seq: m.seq },
      unread: (known?.unread ?? 0) + 1,
      updatedAt: m.ts,
    };
    const conversation = conversationRow(entry);
    if (conversation !== null) await db.conversations.put({ ...conversation, pushed: true });
  });
}

async function storeRecall(payload: PushPayload): Promise<void> {
  const { message: m, peer } = payload;
  await db.transaction('rw', [db.messages, db.conversations], async () => {
    const held = await db.messages.get(m.id);
    const wasPushed = held?.pushed === true;
    if (wasPushed) await db.messages.delete(m.id);
    const known = await db.conversations.get(peer);
    if (known === undefined) return;
    const changes: { preview?: string; recalledBy?: string; unread?: number } = {};
    // The push of a recall is about the sender's message (an admin's recall is worded as such once the inbox syncs).
    if (known.lastId === m.id) Object.assign(changes, { preview: RECALLED, recalledBy: peer });
    if (wasPushed && known.unread > 0) changes.unread = known.unread - 1;
    if (Object.keys(changes).length > 0) await db.conversations.update(peer, changes);
  });
}
