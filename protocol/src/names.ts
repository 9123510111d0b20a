/**
 * Names people see: user ids, nicknames and file names. Shared by the server
 * (the authority) and the web app (to say it before sending).
 *
 * - Ids that start with `@` belong to the server (`@server` claims its own
 *   writes, `@admin` signs admin recalls), and `.` and `..` read as paths:
 *   no account may take them.
 * - Ids are unique regardless of ASCII case (ids are ASCII), so `Bob` cannot
 *   pass for `bob`; the id keeps the case it was created with.
 * - Text shown as a name loses what could hide or reorder it: controls, bidi
 *   overrides and isolates, zero-width and other invisible formatting
 *   characters. Two sequences stay, because emoji need them: a zero-width
 *   joiner between two emoji (👩‍💻) and the tag characters of a subdivision
 *   flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
 */
import { z } from 'zod';

/** Whether an id is kept for the server itself: `@…`, `.` and `..`. */
export function isReservedUserId(id: string): boolean {
  return id.startsWith('@') || id === '.' || id === '..';
}

/** The form of an id that uniqueness compares (ids are ASCII, so this is ASCII case folding). */
export const userIdKey = (id: string): string => id.toLowerCase();

/**
 * One pass: group 1 keeps a tag-sequence flag, group 2 a joiner between two
 * emoji (an emoji may carry VS16 or a skin tone before the joiner); any other
 * control (Cc), format (Cf: bidi controls, zero-width characters, BOM, soft
 * hyphen, stray tags), line or paragraph separator, or lone surrogate goes.
 */
const STRIP =
  /(\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|((?<=\p{Extended_Pictographic}(?:\u{FE0F}|\p{Emoji_Modifier})?)\u200D(?=\p{Extended_Pictographic}))|[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `text` without invisible controls and formatting characters (see above), trimmed. */
export function cleanText(text: string): string {
  return text.replace(STRIP, (_match, flag: string | undefined, joiner: string | undefined) => flag ?? joiner ?? '').trim();
}

/** A character a person can see: not a space, mark, control, format or default-ignorable character (e.g. Hangul fillers), nor a blank braille cell. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\p{C}\u2800]/u;

export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/** A nickname as stored: cleaned; null when nothing visible is left. */
export function cleanNickname(nickname: string): string | null {
  const cleaned = cleanText(nickname);
  return hasVisibleText(cleaned) ? cleaned : null;
}

/**
 * A profile's "about" line as stored: cleaned like a nickname; empty when
 * nothing visible is left (an empty line means no about line).
 */
export function cleanAbout(about: string): string {
  const cleaned = cleanText(about);
  return hasVisibleText(cleaned) ? cleaned : '';
}

/** A file name as given at upload or in a message: cleaned on parse (see cleanText). */
export const FileName = z.string().max(255).transform(cleanText);
