/**
 * Pure mapping from document values to the rows the UI reads. Values come from
 * the network and may be malformed (a refused write, a developer's unchecked
 * write), so every function here is lenient and returns null rather than throw.
 */
import { Element, InboxEntry, MessageType, ProfileEntry, conversationId, describeElement, isAvatarUrl, segmentOf } from '@parley/protocol';
import type { ConversationRow, MessageRow, ProfileRow, RelationRow } from '../db.ts';
import { searchWords } from '../shared/words.ts';

/** Unsequenced messages sort after every sequenced one, by send time. */
const PENDING_BASE = 2 ** 50;

export function displayOrder(seq: number | null, ts: number): number {
  return seq ?? PENDING_BASE + ts;
}

/**
 * The elements of a body that parse. A malformed element that still carries
 * words (a refused or unchecked write) keeps them as text, so that it can be
 * shown as failed with what the user wrote.
 */
export function bodyOf(body: unknown): Element[] {
  if (!Array.isArray(body)) return [];
  return body.flatMap((e: unknown): Element[] => {
    const parsed = Element.safeParse(e);
    if (parsed.success) return [parsed.data];
    const text = (e as { text?: unknown } | null)?.text;
    return typeof text === 'string' && text.length > 0 ? [{ type: 'text', text }] : [];
  });
}

/** A body in words: text as written, other elements as protocol describes them. */
export function textOfBody(body: readonly Element[]): string {
  return body.map(describeElement).join('\n');
}

/** A message row from `messages[id]` (and its `seq[id]`), or null when it is not a message of `me`'s. */
export function messageRow(value: unknown, seq: unknown, me: string, segment?: string): MessageRow | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const { id, from, to } = v;
  if (typeof id !== 'string' || typeof from !== 'string' || typeof to !== 'string') return null;
  if (from !== me && to !== me) return null;
  const ts = typeof v.ts === 'number' && Number.isFinite(v.ts) ? v.ts : 0;
  const stamped = typeof seq === 'number' && seq > 0 ? seq : null;
  const profile = v.profile as { nickname?: unknown } | undefined;
  const body = bodyOf(v.body);
  const declared = MessageType.safeParse(v.type);
  const type = declared.success ? declared.data : (body[0]?.type ?? 'text');
  const title = type === 'system' ? body.find((e) => e.type === 'system')?.title : undefined;
  const text = textOfBody(body);
  return {
    id,
    conv: conversationId(from, to),
    peer: from === me ? to : from,
    from,
    to,
    body,
    text,
    words: searchWords(text),
    ts,
    seq: stamped,
    order: displayOrder(stamped, ts),
    segment: segment ?? segmentOf(ts),
    nickname: typeof profile?.nickname === 'string' ? profile.nickname : from,
    type,
    ...(typeof title === 'string' ? { title } : {}),
    ...(v.forwarded === true ? { forwarded: true as const } : {}),
  };
}

export function conversationRow(value: unknown): ConversationRow | null {
  const parsed = InboxEntry.safeParse(value);
  if (!parsed.success) return null;
  const e = parsed.data;
  return {
    peer: e.peer,
    segment: e.segment,
    lastSeq: e.lastSeq,
    lastId: e.last?.id,
    lastFrom: e.last?.from,
    preview: e.last?.preview ?? '',
    ...(e.last?.recalledBy === undefined ? {} : { recalledBy: e.last.recalledBy }),
    lastTs: e.last?.ts ?? e.updatedAt,
    unread: e.unread,
    updatedAt: e.updatedAt,
  };
}

export function profileRow(value: unknown): ProfileRow | null {
  const parsed = ProfileEntry.safeParse(value);
  if (!parsed.success) return null;
  const { id, nickname, avatar, about } = parsed.data;
  // An avatar of another form (an inbox cached before avatars had to be uploaded) is not shown: no third-party fetch.
  const row: ProfileRow = avatar === undefined || !isAvatarUrl(avatar) ? { id, nickname } : { id, nickname, avatar };
  if (about !== undefined && about !== '') row.about = about;
  return row;
}

/** The seq of a receipt value, or null when malformed. */
export function receiptSeq(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const seq = (value as { seq?: unknown }).seq;
  return typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 ? seq : null;
}

/**
 * A relation row from the inbox's `friends[id]`, `blocklist[id]` or
 * `requests["in|<from>" | "out|<to>"]`, or null when malformed.
 */
export function relationRow(map: 'friends' | 'blocklist' | 'requests', key: string, value: unknown): RelationRow | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  if (map === 'requests') {
    const match = /^(in|out)\|(.+)$/.exec(key);
    if (match === null) return null;
    const kind = match[1] === 'in' ? 'in' : 'out';
    const id = match[2] ?? '';
    return { key, kind, id, note: typeof v.note === 'string' ? v.note : '', ts: num(v.ts) };
  }
  const kind = map === 'friends' ? 'friend' : 'block';
  return { key: `${kind}|${key}`, kind, id: key, note: '', ts: num(v.since) };
}
