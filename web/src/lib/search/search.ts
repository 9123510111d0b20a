/**
 * Offline full-text search over the messages on this device, through the
 * `words` multi-entry index (lib/shared/words.ts computes it in `messageRow`).
 * Every word of the query must be a word of the message, the last one as a
 * prefix while it is being typed; results come newest first, each with its
 * conversation, a snippet around the first hit and its time. Nothing here
 * touches the network.
 */
import { db, type MessageRow } from '../db.ts';
import { isEmptyQuery, isHit, matchesPhrase, parseQuery, type SearchQuery } from '../shared/words.ts';

/** Results shown at most: a query of one common letter must not render the whole history. */
export const SEARCH_LIMIT = 100;
/** Characters of context around the first hit in a snippet. */
const SNIPPET_BEFORE = 30;
const SNIPPET_LENGTH = 120;

export interface SearchResult {
  id: string;
  peer: string;
  from: string;
  ts: number;
  /** A piece of the message's text around its first hit, cut at word boundaries ("…" where cut). */
  snippet: string;
  /** The snippet in runs, `hit` marking query words (for highlighting, rendered as text). */
  parts: { text: string; hit: boolean }[];
}

/** The ids of the messages with a word equal to, or (as a prefix) starting with, `word`. */
async function idsWith(word: string, prefix: boolean): Promise<Set<string>> {
  const where = db.messages.where('words');
  const keys = await (prefix ? where.startsWith(word) : where.equals(word)).primaryKeys();
  return new Set(keys);
}

/** Messages matching the query, newest first, at most `limit`. */
export async function searchMessages(input: string, limit = SEARCH_LIMIT): Promise<SearchResult[]> {
  const query = parseQuery(input);
  if (isEmptyQuery(query)) return [];
  // Whole words first: they are the narrower sets, and an empty one ends the search early.
  const lookups: [string, boolean][] = [...query.whole.map((w): [string, boolean] => [w, false]), ...(query.prefix === null ? [] : [[query.prefix, true] as [string, boolean]])];
  let ids: string[] | null = null;
  for (const [word, prefix] of lookups) {
    const found = await idsWith(word, prefix);
    const kept: string[] = ids === null ? [...found] : ids.filter((id) => found.has(id));
    if (kept.length === 0) return [];
    ids = kept;
  }
  const found = ids ?? [];
  // A message deleted for me (prefs `hidden`) is not found either.
  const [all, hidden] = await Promise.all([db.messages.bulkGet(found), db.hidden.bulkGet(found)]);
  const rows = all.filter((r, i): r is MessageRow => r !== undefined && hidden[i] === undefined && matchesPhrase(r.text, query));
  rows.sort((a, b) => b.ts - a.ts || b.order - a.order);
  return rows.slice(0, limit).map((row) => resultOf(row, query));
}

export function resultOf(row: MessageRow, query: SearchQuery): SearchResult {
  const snippet = snippetOf(row.text, query);
  return { id: row.id, peer: row.peer, from: row.from, ts: row.ts, snippet, parts: highlight(snippet, query) };
}

/** One line of text around the first word that matches. */
export function snippetOf(text: string, query: SearchQuery): string {
  const line = text.replace(/\s+/g, ' ').trim();
  let first = -1;
  for (const m of line.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    if (isHit(m[0], query) || [...m[0]].some((ch) => isHit(ch, query))) {
      first = m.index;
      break;
    }
  }
  if (line.length <= SNIPPET_LENGTH) return line;
  let start = Math.max(0, first - SNIPPET_BEFORE);
  if (start > 0) {
    const space = line.lastIndexOf(' ', start);
    start = space >= 0 && start - space < 15 ? space + 1 : start;
  }
  const end = Math.min(line.length, start + SNIPPET_LENGTH);
  return `${start > 0 ? '…' : ''}${line.slice(start, end)}${end < line.length ? '…' : ''}`;
}

/** The snippet split into runs of hits and the rest. */
export function highlight(snippet: string, query: SearchQuery): { text: string; hit: boolean }[] {
  const parts: { text: string; hit: boolean }[] = [];
  const push = (text: string, hit: boolean): void => {
    if (text.length === 0) return;
    const last = parts.at(-1);
    if (last !== undefined && last.hit === hit) last.text += text;
    else parts.push({ text, hit });
  };
  let at = 0;
  for (const m of snippet.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    push(snippet.slice(at, m.index), false);
    // CJK runs are matched character by character.
    if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(m[0])) for (const ch of m[0]) push(ch, isHit(ch, query));
    else push(m[0], isHit(m[0], query));
    at = m.index + m[0].length;
  }
  push(snippet.slice(at), false);
  return parts;
}
