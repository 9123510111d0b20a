/**
 * How a message's text is shown. Links, found by linkify-it (the linkifier markdown-it uses):
 * http(s) addresses with balanced brackets kept (`…/Yjs_(software)`), bare
 * domains (`example.com`, `www.example.com`) and e-mail addresses. Nothing
 * else is interpreted: the result is plain runs and links, rendered as text.
 *
 * A text of one to three emoji alone is shown larger (emojiOnly).
 *
 * A module of its own so that the linkifier loads with the message list, not
 * with the first screen (the initial JS budget is 150 KB gzip).
 */
import { LinkifyIt } from 'linkify-it';

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/**
 * Newer top-level domains people write bare (`parley.chat`), beside linkify-it's own list (com, org, net, …
 * and every two-letter country). Not the whole list of 1,500: `file.zip` and `clip.mov` would become links.
 */
const MORE_TLDS = ['app', 'blog', 'chat', 'cloud', 'dev', 'email', 'link', 'live', 'news', 'online', 'page', 'site', 'social', 'store', 'tech', 'xyz'];

/** Addresses without a scheme, and e-mail addresses; no `ftp:` (browsers dropped it) and no `//host` (a comment, more often than not). */
const finder = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true }).tlds(MORE_TLDS, true).add('ftp:', null).add('//', null);

/** Only these become links: anything else a match could carry (a `javascript:` address) stays text. */
const SAFE = /^(?:https?:|mailto:)/i;

/** The first web address of a text (http or https, bare domains read as https), for its link preview; null when it has none. */
export function firstWebLink(text: string): string | null {
  for (const part of linkify(text)) if (part.kind === 'link' && /^https?:/i.test(part.href)) return part.href;
  return null;
}

/** Splits text into plain runs and links; an e-mail address links to `mailto:`, a bare domain to `https://` (linkify-it says `http://`). */
export function linkify(text: string): TextPart[] {
  const matches = finder.match(text) ?? [];
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of matches) {
    const href = match.schema === '' && /^http:\/\//i.test(match.url) && !/^http:\/\//i.test(match.raw) ? `https://${match.url.slice('http://'.length)}` : match.url;
    if (!SAFE.test(href)) continue;
    if (match.index > last) parts.push({ kind: 'text', text: text.slice(last, match.index) });
    parts.push({ kind: 'link', text: match.raw, href });
    last = match.lastIndex;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/**
 * What a grapheme of an emoji starts with: a character shown as emoji by default (☕, 😀), one asked to be
 * (U+FE0F: ❤️; without it `©` and `❤` are text), a flag (two regional indicators), or a keycap (`1️⃣`).
 */
const EMOJI = /^(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3)/u;
/** The ASCII characters an emoji can start with: a keycap's. */
const KEYCAP_BASES = '#*0123456789';
const graphemes = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** One to three emoji and nothing else (spaces aside): shown larger, as chat apps do. */
export function emojiOnly(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 64 || graphemes === null) return false;
  // No emoji starts with an ASCII character but a keycap's (# * 0-9): most texts are told at once, without
  // segmenting them (which costs each row of a conversation as it opens, the first time most of all).
  if (trimmed.charCodeAt(0) < 0x80 && !KEYCAP_BASES.includes(trimmed.charAt(0))) return false;
  let count = 0;
  for (const { segment } of graphemes.segment(trimmed)) {
    if (/^\s+$/u.test(segment)) continue;
    if (!EMOJI.test(segment)) return false;
    if (++count > 3) return false;
  }
  return count > 0;
}
