import { describe, expect, it } from 'vitest';
import { FileElement } from './elements.ts';
import { UploadCreate } from './media.ts';
import { cleanAbout, cleanNickname, cleanText, hasVisibleText, isReservedUserId, userIdKey } from './names.ts';

describe('reserved user ids', () => {
  it('reserves ids starting with @, and . and ..', () => {
    for (const id of ['@server', '@admin', '@', '@Bob', '.', '..']) expect(isReservedUserId(id), id).toBe(true);
  });
  it('leaves ordinary ids, and dots inside an id, to users', () => {
    for (const id of ['bob', 'a.b', '...', 'bob@example.com', 'x.', '.x']) expect(isReservedUserId(id), id).toBe(false);
  });
  it('compares ids regardless of ASCII case', () => {
    expect(userIdKey('Bob')).toBe(userIdKey('bOB'));
  });
});

describe('cleanText', () => {
  it('strips bidi overrides and isolates', () => {
    expect(cleanText('ab\u202Egpj.exe')).toBe('abgpj.exe');
    for (const c of ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F']) {
      expect(cleanText(`a${c}b`)).toBe('ab');
    }
  });
  it('strips zero-width characters, BOM and controls', () => {
    for (const c of ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u0000', '\u0007', '\n', '\t', '\u007F', '\u0085', '\u2028', '\u2029']) {
      expect(cleanText(`a${c}b`)).toBe('ab');
    }
  });
  it('keeps emoji ZWJ sequences, skin tones and tag flags', () => {
    for (const e of ['👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👩🏽‍🚀', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '❤️‍🔥']) expect(cleanText(`Ann ${e}`)).toBe(`Ann ${e}`);
  });
  it('strips a joiner that joins no emoji, and stray tag characters', () => {
    expect(cleanText('a\u200D👩')).toBe('a👩');
    expect(cleanText('👩\u200Db')).toBe('👩b');
    expect(cleanText('a\u{E0041}b')).toBe('ab');
  });
  it('keeps scripts and marks people write with', () => {
    for (const s of ['Zoë', 'Дмитрий', 'محمد', '李小龙', 'क्षत्रिय', 'e\u0301']) expect(cleanText(s)).toBe(s);
  });
});

describe('nicknames', () => {
  it('needs at least one visible character', () => {
    for (const n of ['', '   ', '\u200B\u200B', '\u202E', '\u3164', '\u115F\u1160', '\u2800', '\u0301', '\uFE0F', '\u00A0\u2003']) {
      expect(cleanNickname(n), JSON.stringify(n)).toBeNull();
    }
  });
  it('cleans and trims a visible nickname', () => {
    expect(cleanNickname('  \u202EAlice\u200B ')).toBe('Alice');
    expect(cleanNickname('🙂')).toBe('🙂');
    expect(hasVisibleText('.')).toBe(true);
  });
});

describe('file names in the protocol', () => {
  const media = { hash: 'a'.repeat(64), size: 5, mime: 'text/plain' };
  it('cleans a file name given at upload', () => {
    expect(UploadCreate.parse({ kind: 'file', peer: 'bob', size: 5, mime: 'text/plain', sha256: 'a'.repeat(64), name: 'invoice\u202Efdp.exe\u200B' }).name).toBe('invoicefdp.exe');
  });
  it("refuses a message's file element whose name hides characters", () => {
    expect(FileElement.safeParse({ type: 'file', media, name: 'report.pdf' }).success).toBe(true);
    expect(FileElement.safeParse({ type: 'file', media, name: 'invoice\u202Efdp.exe' }).success).toBe(false);
    expect(FileElement.safeParse({ type: 'file', media, name: 'a\u200Bb.txt' }).success).toBe(false);
  });
});

describe('about lines', () => {
  it('are cleaned like nicknames, and empty when nothing visible is left', () => {
    expect(cleanAbout('  Out \u202Eclimbing\u200B 🧗‍♀️ ')).toBe('Out climbing 🧗‍♀️');
    expect(cleanAbout('\u200B \u2066\u2069')).toBe('');
    expect(cleanAbout('')).toBe('');
  });
});
