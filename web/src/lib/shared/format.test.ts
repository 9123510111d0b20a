import { describe, expect, it } from 'vitest';
import { dayLabel, duration, formatBytes, initials, linkify, safeFileName } from './format.ts';

describe('linkify', () => {
  it('turns http(s) and www links into links and leaves the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1, or www.parley.chat.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ', or ' },
      { kind: 'link', text: 'www.parley.chat', href: 'https://www.parley.chat' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('interprets no markup', () => {
    expect(linkify('<b>hi</b> javascript:alert(1)')).toEqual([{ kind: 'text', text: '<b>hi</b> javascript:alert(1)' }]);
  });
});

describe('dayLabel', () => {
  it('says Today and Yesterday', () => {
    const now = new Date(2025, 4, 10, 12).getTime();
    expect(dayLabel(now - 60_000, now)).toBe('Today');
    expect(dayLabel(new Date(2025, 4, 9, 23).getTime(), now)).toBe('Yesterday');
  });
});

describe('initials', () => {
  it('takes two letters', () => {
    expect(initials('Alice Liddell')).toBe('AL');
    expect(initials('bob')).toBe('BO');
  });
});

describe('duration and formatBytes', () => {
  it('shows seconds as m:ss', () => {
    expect(duration(7.4)).toBe('0:07');
    expect(duration(750)).toBe('12:30');
    expect(duration(Number.POSITIVE_INFINITY)).toBe('0:00');
  });

  it('shows sizes in B, KB and MB', () => {
    expect(formatBytes(820)).toBe('820 B');
    expect(formatBytes(4300)).toBe('4.2 KB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MB');
  });
});

describe('safeFileName', () => {
  it('keeps the name and drops paths and characters a file system refuses', () => {
    expect(safeFileName('report 2025.pdf')).toBe('report 2025.pdf');
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\a\\b<c>.txt')).toBe('b_c_.txt');
    expect(safeFileName('...')).toBe('file');
    expect(safeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeFileName('\u200B')).toBe('file');
  });
});
