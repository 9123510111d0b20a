import { describe, expect, it } from 'vitest';
import { clockTime, dayLabel, duration, formatBytes, initials, lastSeen, safeFileName } from './format.ts';

describe('clockTime', () => {
  it('pads the hour only where the locale does', () => {
    const nineOhFive = new Date(2025, 4, 10, 9, 5).getTime();
    expect(clockTime(nineOhFive, 'en-US')).toMatch(/^9:05\s?AM$/);
    expect(clockTime(nineOhFive, 'de-DE')).toBe('09:05');
    expect(clockTime(nineOhFive, 'ja-JP')).toBe('9:05');
    expect(clockTime(new Date(2025, 4, 10, 14, 30).getTime(), 'en-GB')).toBe('14:30');
  });
});

describe('dayLabel', () => {
  it('says Today and Yesterday', () => {
    const now = new Date(2025, 4, 10, 12).getTime();
    expect(dayLabel(now - 60_000, now)).toBe('Today');
    expect(dayLabel(new Date(2025, 4, 9, 23).getTime(), now)).toBe('Yesterday');
  });
});

describe('lastSeen', () => {
  it('says today, yesterday, a weekday or a date, with the time', () => {
    const now = new Date(2025, 4, 10, 12).getTime();
    const at = (d: number, h: number): number => new Date(2025, 4, d, h, 5).getTime();
    expect(lastSeen(at(10, 9), now)).toBe(`last seen today at ${clockTime(at(10, 9))}`);
    expect(lastSeen(at(9, 23), now)).toBe(`last seen yesterday at ${clockTime(at(9, 23))}`);
    expect(lastSeen(at(7, 8), now)).toMatch(/^last seen [A-Z][a-z]+day at /);
    expect(lastSeen(at(1, 8), now)).toMatch(/^last seen 1 May at |^last seen May 1 at /);
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
