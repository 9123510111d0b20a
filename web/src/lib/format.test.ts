import { describe, expect, it } from 'vitest';
import { dayLabel, initials, linkify } from './format.ts';

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
