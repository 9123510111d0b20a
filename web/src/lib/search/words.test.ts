import { describe, expect, it } from 'vitest';
import { matchesPhrase, parseQuery, searchWords } from './words.ts';
import { highlight, snippetOf } from './search.ts';

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

describe('snippets', () => {
  it('cuts long text around the first hit and marks the hits', () => {
    const q = parseQuery('zebra');
    const text = `${'lorem ipsum '.repeat(20)}the zebra crossed ${'dolor sit '.repeat(20)}`;
    const snippet = snippetOf(text, q);
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet).toContain('the zebra crossed');
    expect(highlight(snippet, q).filter((p) => p.hit)).toEqual([{ text: 'zebra', hit: true }]);
  });
});
