import { describe, expect, test } from 'vitest';
import {
  conversationId,
  conversationPath,
  formatDocPath,
  isUserId,
  mayRead,
  memberPair,
  parseDocPath,
  peerOf,
  previousSegment,
  segmentOf,
  segmentRange,
} from './paths.ts';

describe('parseDocPath', () => {
  test('accepts a conversation path with its members in order', () => {
    expect(parseDocPath('c2c/alice/bob/2025-03')).toEqual({ kind: 'conversation', a: 'alice', b: 'bob', segment: '2025-03' });
    expect(parseDocPath('c2c/A.b_c@d-e/z/1999-12')).toEqual({ kind: 'conversation', a: 'A.b_c@d-e', b: 'z', segment: '1999-12' });
  });

  test('accepts inbox and prefs paths', () => {
    expect(parseDocPath('inbox/alice')).toEqual({ kind: 'inbox', user: 'alice' });
    expect(parseDocPath('prefs/bob')).toEqual({ kind: 'prefs', user: 'bob' });
  });

  test('refuses a conversation whose members are not in order or are the same user', () => {
    expect(parseDocPath('c2c/bob/alice/2025-03')).toBeNull();
    expect(parseDocPath('c2c/alice/alice/2025-03')).toBeNull();
  });

  test('refuses a bad segment', () => {
    for (const segment of ['2025-13', '2025-00', '2025-3', '25-03', '2025/03', '2025-03-01', '', 'abcd-ef']) {
      expect(parseDocPath(`c2c/alice/bob/${segment}`), segment).toBeNull();
    }
  });

  test('refuses a bad user id', () => {
    const long = 'a'.repeat(65);
    for (const path of [
      'c2c/al ice/bob/2025-03',
      'c2c//bob/2025-03',
      `c2c/alice/${long}/2025-03`,
      'inbox/',
      'inbox/al|ice',
      `prefs/${long}`,
      'prefs/ä',
    ]) {
      expect(parseDocPath(path), path).toBeNull();
    }
    expect(parseDocPath(`inbox/${'a'.repeat(64)}`)).toEqual({ kind: 'inbox', user: 'a'.repeat(64) });
  });

  test('refuses unknown kinds and wrong part counts', () => {
    for (const path of ['', 'c2c', 'c2c/alice/bob', 'c2c/alice/bob/2025-03/x', '/c2c/alice/bob/2025-03', 'inbox/alice/x', 'outbox/alice', 'INBOX/alice']) {
      expect(parseDocPath(path), path).toBeNull();
    }
  });

  test('round-trips with formatDocPath', () => {
    for (const path of ['c2c/alice/bob/2025-03', 'inbox/alice', 'prefs/alice']) {
      const parsed = parseDocPath(path);
      expect(parsed).not.toBeNull();
      if (parsed) expect(formatDocPath(parsed)).toBe(path);
    }
  });
});

describe('members and reading', () => {
  test('a conversation is readable by its two members only', () => {
    const doc = { kind: 'conversation', a: 'alice', b: 'bob', segment: '2025-03' } as const;
    expect(mayRead(doc, 'alice')).toBe(true);
    expect(mayRead(doc, 'bob')).toBe(true);
    expect(mayRead(doc, 'carol')).toBe(false);
  });

  test('an inbox and prefs are readable by their owner only', () => {
    expect(mayRead({ kind: 'inbox', user: 'alice' }, 'alice')).toBe(true);
    expect(mayRead({ kind: 'inbox', user: 'alice' }, 'bob')).toBe(false);
    expect(mayRead({ kind: 'prefs', user: 'bob' }, 'bob')).toBe(true);
    expect(mayRead({ kind: 'prefs', user: 'bob' }, 'alice')).toBe(false);
  });

  test('names a conversation the same whichever member names it', () => {
    expect(memberPair('bob', 'alice')).toEqual(['alice', 'bob']);
    expect(conversationPath('bob', 'alice', '2025-03')).toBe('c2c/alice/bob/2025-03');
    expect(conversationPath('alice', 'bob', '2025-03')).toBe('c2c/alice/bob/2025-03');
    expect(conversationId('bob', 'alice')).toBe(conversationId('alice', 'bob'));
    expect(parseDocPath(conversationPath('zed', 'Zed', '2025-03'))).not.toBeNull();
  });

  test('peerOf names the other member', () => {
    expect(peerOf({ a: 'alice', b: 'bob' }, 'alice')).toBe('bob');
    expect(peerOf({ a: 'alice', b: 'bob' }, 'bob')).toBe('alice');
  });

  test('isUserId takes 1-64 of the allowed characters', () => {
    expect(isUserId('alice')).toBe(true);
    expect(isUserId('a'.repeat(64))).toBe(true);
    expect(isUserId('a'.repeat(65))).toBe(false);
    expect(isUserId('')).toBe(false);
    expect(isUserId('a/b')).toBe(false);
    expect(isUserId(42)).toBe(false);
  });
});

describe('segments', () => {
  test('segmentOf puts a timestamp in its UTC month at month and year boundaries', () => {
    expect(segmentOf(Date.UTC(2025, 2, 1))).toBe('2025-03');
    expect(segmentOf(Date.UTC(2025, 2, 1) - 1)).toBe('2025-02');
    expect(segmentOf(Date.UTC(2024, 11, 31, 23, 59, 59, 999))).toBe('2024-12');
    expect(segmentOf(Date.UTC(2025, 0, 1))).toBe('2025-01');
    expect(segmentOf(0)).toBe('1970-01');
  });

  test('previousSegment walks back across month and year boundaries', () => {
    expect(previousSegment('2025-03')).toBe('2025-02');
    expect(previousSegment('2025-10')).toBe('2025-09');
    expect(previousSegment('2025-01')).toBe('2024-12');
    expect(previousSegment('2000-01')).toBe('1999-12');
  });

  test('segmentRange spans the first to the last millisecond of the month', () => {
    expect(segmentRange('2025-03')).toEqual([Date.UTC(2025, 2, 1), Date.UTC(2025, 3, 1) - 1]);
    expect(segmentRange('2024-12')).toEqual([Date.UTC(2024, 11, 1), Date.UTC(2025, 0, 1) - 1]);
    const [, lastOfLeapFeb] = segmentRange('2024-02');
    expect(new Date(lastOfLeapFeb).toISOString()).toBe('2024-02-29T23:59:59.999Z');
  });

  test('segmentRange and segmentOf agree at both ends of every month of a year', () => {
    let segment = '2025-01';
    for (let i = 0; i < 13; i++) {
      const [first, last] = segmentRange(segment);
      expect(segmentOf(first)).toBe(segment);
      expect(segmentOf(last)).toBe(segment);
      expect(segmentOf(first - 1)).toBe(previousSegment(segment));
      expect(segmentRange(previousSegment(segment))[1]).toBe(first - 1);
      segment = previousSegment(segment);
    }
    expect(segment).toBe('2023-12');
  });
});
