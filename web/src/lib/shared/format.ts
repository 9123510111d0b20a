/** Formatting for display: times, date dividers, links, initials and avatar colours. */
import { cleanText } from '@parley/protocol';

const DAY = 24 * 60 * 60 * 1000;

function startOfDay(ts: number): number {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * One formatter per style, made on first use: `toLocaleTimeString` builds a
 * formatter on every call, and a long list formats thousands of times.
 */
function formatter(options: Intl.DateTimeFormatOptions): (ts: number) => string {
  let format: Intl.DateTimeFormat | null = null;
  return (ts) => (format ??= new Intl.DateTimeFormat(undefined, options)).format(ts);
}

const CLOCK = formatter({ hour: '2-digit', minute: '2-digit' });
const WEEKDAY = formatter({ weekday: 'long' });
const WEEKDAY_SHORT = formatter({ weekday: 'short' });
const DAY_MONTH = formatter({ day: 'numeric', month: 'long' });
const DAY_MONTH_YEAR = formatter({ day: 'numeric', month: 'long', year: 'numeric' });
const SHORT_DATE = formatter({ day: 'numeric', month: 'short', year: '2-digit' });

/** "14:05" */
export function clockTime(ts: number): string {
  return CLOCK(ts);
}

/** "Today", "Yesterday", or a date ("Monday, 3 March" / "3 March 2023"). */
export function dayLabel(ts: number, now: number = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const d = new Date(ts);
  if (days > 1 && days < 7) return WEEKDAY(ts);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return sameYear ? DAY_MONTH(ts) : DAY_MONTH_YEAR(ts);
}

/** The time in the conversation list: a clock today, "Yesterday", a weekday this week, else a short date. */
export function listTime(ts: number, now: number = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days === 0) return clockTime(ts);
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return WEEKDAY_SHORT(ts);
  return SHORT_DATE(ts);
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
/** Punctuation that usually ends a sentence rather than a URL. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** Splits text into plain runs and links (http, https, www.); nothing else is interpreted. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    let url = match[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trail.length);
    if (url.length === 0) continue;
    const start = match.index;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    const href = /^https?:\/\//i.test(url) ? url : `https://${url}`;
    parts.push({ kind: 'link', text: url, href });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

export function initials(name: string): string {
  const words = name.trim().split(/[\s._@-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [name.trim()];
  return letters
    .map((w) => [...(w ?? '')].slice(0, words.length > 1 ? 1 : 2).join(''))
    .join('')
    .toUpperCase();
}

/** A hue derived from the user id, so a person keeps their colour on every device. */
export function hueOf(id: string): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}

/** A duration in seconds as "m:ss" ("0:07", "12:30"). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A size in bytes for people: "820 B", "4.2 KB", "12 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** A file name to show and offer on download: no path, no control or reserved characters, at most 255 characters. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^\.+/, '').trim();
  // The protocol refuses a file name that hides or reorders characters (bidi, zero-width): cleaned here as the server cleans it.
  return cleanText((clean || 'file').slice(-255)) || 'file';
}
