import { describe, expect, it } from 'vitest';
import { matchesPhrase, parseQuery, searchWords } from './words.ts';

describe('searchWords', () => {
  it('lower-cases, strips diacritics and splits on anything not a letter or digit', () => {
    expect(searchWords('Café au LAIT, déjà-vu! 42x')).toEqual(['cafe', 'au', 'lait', 'deja', 'vu', '42x']);
  });

  it('makes each Han, Hiragana and Katakana character a word of its own', () => {
    expect(searchWords('東京タワー trip')).toEqual(['東', '京', 'タ', 'ワ', 'ー', 'trip']);
  });

  it('indexes each word once', () => {
    expect(searchWords('ha ha HA')).toEqual(['ha']);
  });
});

describe('parseQuery', () => {
  it('matches the last word typed as a prefix and the others whole', () => {
    expect(parseQuery('Lunch tomor')).toEqual({ whole: ['lunch'], prefix: 'tomor', phrases: [] });
  });

  it('matches every word whole once the input ends in a space', () => {
    expect(parseQuery('lunch ')).toEqual({ whole: ['lunch'], prefix: null, phrases: [] });
  });

  it('keeps CJK runs together as phrases', () => {
    const q = parseQuery('東京');
    expect(q.whole).toEqual(['東']);
    expect(q.prefix).toBe('京');
    expect(matchesPhrase('京東 no', q)).toBe(false);
    expect(matchesPhrase('in 東京 now', q)).toBe(true);
  });
});
