/**
 * What a media response says about its bytes. Media is served from Parley's
 * own origin, so a stored file must never run as a page there: only types a
 * browser renders as inert media (INLINE_MIME_TYPES) keep their type;
 * everything else (text/html, SVG, XML, PDF, anything unknown) leaves as
 * application/octet-stream and an attachment, with `nosniff` and a sandboxing
 * CSP on every answer (see SECURITY_HEADERS).
 */
import { INLINE_MIME_TYPES } from '@parley/protocol';

/** On every media answer, errors included. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  // Other sites may not embed it (the cookie is SameSite=Strict anyway).
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** Immutable (a hash names one content forever), private (it is for its conversation's members). */
export const CACHE_CONTROL = 'private, max-age=31536000, immutable';

const TOKEN = "[a-z0-9!#$&^_.+'*-]+";
const MIME = new RegExp(`^${TOKEN}/${TOKEN}$`);

/** `type/subtype` in lower case without parameters; anything unparsable is application/octet-stream. */
export function normaliseMime(raw: string): string {
  const bare = (raw.split(';')[0] ?? '').trim().toLowerCase();
  return MIME.test(bare) ? bare : 'application/octet-stream';
}

/** The Content-Type a stored mime type is served with, and whether it may be shown inline. */
export function servedType(mime: string): { type: string; inline: boolean } {
  const type = normaliseMime(mime);
  return INLINE_MIME_TYPES.includes(type) ? { type, inline: true } : { type: 'application/octet-stream', inline: false };
}

/**
 * A name as uploaded, made safe to offer for download: no path separators, no
 * control or bidi-override characters (which disguise an extension), at most
 * 255 characters; empty or dots only becomes "file".
 */
export function safeFileName(name: string): string {
  const trimmed = [...name.normalize('NFC')]
    .filter((ch) => !unsafe(ch.codePointAt(0) ?? 0))
    .join('')
    .replace(/[/\\]/g, '_')
    .trim();
  // By code point, so that no surrogate pair is split (encodeURIComponent throws on half of one).
  const cleaned = [...trimmed].slice(0, 255).join('');
  return /^\.*$/.test(cleaned) ? 'file' : cleaned;
}

/** C0, DEL and C1 controls; bidi marks, embeddings, overrides and isolates. */
function unsafe(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/** RFC 8187 value of a `filename*` parameter. */
function extValue(name: string): string {
  return `UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  return `${kind}; filename*=${extValue(safeFileName(name))}`;
}

export type ByteRange = { start: number; end: number };

/**
 * The one byte range a `Range` header asks of `size` bytes (RFC 9110 14.1.2):
 * a range; `unsatisfiable` (answer 416); or null, to send the whole (no
 * header, a malformed one, or several ranges: a server may ignore those).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // A suffix: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
