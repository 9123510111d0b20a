/**
 * The document layout. Every synced thing is a Yjs document named by a path:
 *
 *   c2c/<a>/<b>/<segment>   a < b; the messages of one conversation in one month (UTC)
 *   inbox/<user>            the user's conversation list; written by the server only
 *   prefs/<user>            read markers, mutes, drafts; written by the owner's devices
 */
import { LIMITS } from './limits.ts';

export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
/** A month segment, `YYYY-MM`. */
export const SEGMENT_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LIMITS.userIdLength && USER_ID_PATTERN.test(value);
}

export type DocPath =
  | { kind: 'conversation'; a: string; b: string; segment: string }
  | { kind: 'inbox'; user: string }
  | { kind: 'prefs'; user: string };

/** The two members of a conversation in canonical order (a < b). */
export function memberPair(x: string, y: string): [string, string] {
  return x < y ? [x, y] : [y, x];
}

/** The month segment (UTC) a timestamp belongs to. */
export function segmentOf(ts: number): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The segment before `segment`, for walking history backwards. */
export function previousSegment(segment: string): string {
  const [y, m] = segment.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** The first and last millisecond of a segment. */
export function segmentRange(segment: string): [number, number] {
  const [y, m] = segment.split('-').map(Number) as [number, number];
  return [Date.UTC(y, m - 1, 1), Date.UTC(y, m, 1) - 1];
}

export function conversationPath(x: string, y: string, segment: string): string {
  const [a, b] = memberPair(x, y);
  return `c2c/${a}/${b}/${segment}`;
}

/** A stable id of the conversation between two users, independent of segment. */
export function conversationId(x: string, y: string): string {
  const [a, b] = memberPair(x, y);
  return `${a}/${b}`;
}

export const inboxPath = (user: string): string => `inbox/${user}`;
export const prefsPath = (user: string): string => `prefs/${user}`;

export function formatDocPath(doc: DocPath): string {
  switch (doc.kind) {
    case 'conversation':
      return conversationPath(doc.a, doc.b, doc.segment);
    case 'inbox':
      return inboxPath(doc.user);
    case 'prefs':
      return prefsPath(doc.user);
  }
}

/** Parses a document path; null when it is not one Parley knows. */
export function parseDocPath(path: string): DocPath | null {
  const parts = path.split('/');
  if (parts[0] === 'c2c' && parts.length === 4) {
    const [, a, b, segment] = parts as [string, string, string, string];
    if (isUserId(a) && isUserId(b) && a < b && SEGMENT_PATTERN.test(segment)) {
      return { kind: 'conversation', a, b, segment };
    }
    return null;
  }
  if ((parts[0] === 'inbox' || parts[0] === 'prefs') && parts.length === 2 && isUserId(parts[1])) {
    return { kind: parts[0], user: parts[1] };
  }
  return null;
}

/** Whether `user` may open (read) the document. Writing is decided by the validator. */
export function mayRead(doc: DocPath, user: string): boolean {
  return doc.kind === 'conversation' ? doc.a === user || doc.b === user : doc.user === user;
}

/** The other member of a conversation. */
export function peerOf(doc: { a: string; b: string }, user: string): string {
  return doc.a === user ? doc.b : doc.a;
}
