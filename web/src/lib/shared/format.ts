/** Formatting for display: times, date dividers, initials and avatar colours (links: messageText.ts). */
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
function formatter(options: Intl.DateTimeFormatOptions): (ts: number, locale?: string) => string {
  let format: Intl.DateTimeFormat | null = null;
  return (ts, locale) => (locale === undefined ? (format ??= new Intl.DateTimeFormat(undefined, options)) : new Intl.DateTimeFormat(locale, options)).format(ts);
}

/**
 * The time as the user's locale writes it, its own short pattern: padded where the locale pads
 * ("09:05" in de-DE and en-GB), not where it does not ("9:05 AM" in en-US, "9:05" in ja-JP). `hour: '2-digit'`
 * padded everywhere; `hour: 'numeric'` padded nowhere.
 */
const CLOCK = formatter({ timeStyle: 'short' });
const WEEKDAY = formatter({ weekday: 'long' });
const WEEKDAY_SHORT = formatter({ weekday: 'short' });
const DAY_MONTH = formatter({ day: 'numeric', month: 'long' });
const DAY_MONTH_YEAR = formatter({ day: 'numeric', month: 'long', year: 'numeric' });
const SHORT_DATE = formatter({ day: 'numeric', month: 'short', year: '2-digit' });

/** "14:05", "2:05 PM": the time of day in the user's locale (`locale` for tests). */
export function clockTime(ts: number, locale?: string): string {
  return CLOCK(ts, locale);
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

/** "last seen today at 14:05", "last seen yesterday at 9:12", "last seen Monday at 8:00", "last seen 3 March at 8:00" (a header's line). */
export function lastSeen(ts: number, now: number = Date.now()): string {
  const day = dayLabel(ts, now);
  const named = day === 'Today' || day === 'Yesterday' ? day.toLowerCase() : day;
  return `last seen ${named} at ${clockTime(ts)}`;
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
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
