/**
 * The words of a text for offline search, computed once per message row
 * (lib/sync/materialise.ts `messageRow`) into the `words` multi-entry index.
 *
 * Normalised: Unicode compatibility form (NFKD), combining marks dropped
 * (so "café" is "cafe"), lower case; split on anything that is not a letter
 * or a digit. Han, Hiragana and Katakana are written without spaces, so each
 * of their characters is a word of its own; a query of several such
 * characters then matches every character, and `matchesPhrase` checks that
 * they stand together. Limits: Thai, Lao, Khmer and Burmese (also written
 * without spaces) are indexed by whole runs, so only a prefix of a run is
 * found; words longer than `MAX_WORD` are cut.
 */

/** A word is cut to this many UTF-16 units: enough for any real word, bounds the index. */
export const MAX_WORD = 40;
/** At most this many distinct words per message are indexed (a message is at most 12 KB). */
export const MAX_WORDS = 1000;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const CJK_ALL = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/gu;
const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;

/** Lower case, compatibility form, no diacritics. */
export function normalise(text: string): string {
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** The words of a text, in order of appearance, each once (for the index). */
export function searchWords(text: string): string[] {
  const words = new Set<string>();
  for (const match of normalise(text).replace(CJK_ALL, ' $1 ').matchAll(WORD)) {
    words.add(match[0].slice(0, MAX_WORD));
    if (words.size >= MAX_WORDS) break;
  }
  return [...words];
}

export interface SearchQuery {
  /** Words that must each be a word of the message. */
  whole: string[];
  /** The last word typed, matched as a prefix (null when the input ends in a space or is empty). */
  prefix: string | null;
  /** Runs of CJK characters of two or more, which must appear together in the message. */
  phrases: string[];
}

/** What a search box's text asks for: every word, the last one as a prefix while it is being typed. */
export function parseQuery(input: string): SearchQuery {
  const spaced = normalise(input).replace(CJK_ALL, ' $1 ');
  const words = [...spaced.matchAll(WORD)].map((m) => m[0].slice(0, MAX_WORD));
  const endsOpen = /[\p{L}\p{N}]$/u.test(input) && words.length > 0;
  const last = endsOpen ? (words.pop() ?? null) : null;
  // A single CJK character is a whole word; matching it as a prefix is the same.
  const phrases = [...normalise(input).matchAll(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]{2,}/gu)].map((m) => m[0]);
  return { whole: [...new Set(words)].filter((w) => w !== last), prefix: last, phrases };
}

export function isEmptyQuery(q: SearchQuery): boolean {
  return q.whole.length === 0 && q.prefix === null;
}

/** Whether a message's text holds the query's CJK runs together (the index only knows single characters). */
export function matchesPhrase(text: string, q: SearchQuery): boolean {
  if (q.phrases.length === 0) return true;
  const n = normalise(text);
  return q.phrases.every((p) => n.includes(p));
}

/** Whether a word of the text is, or starts with, a query word (for highlighting). */
export function isHit(word: string, q: SearchQuery): boolean {
  const w = normalise(word);
  return q.whole.includes(w) || (q.prefix !== null && w.startsWith(q.prefix)) || (CJK.test(w) && q.phrases.some((p) => p.includes(w)));
}
