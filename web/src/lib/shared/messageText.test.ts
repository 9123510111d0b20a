import { describe, expect, it, vi } from 'vitest';
import { emojiOnly, linkify } from './messageText.ts';

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

  it('keeps a closing parenthesis that belongs to the address, and drops one that closes the sentence', () => {
    expect(linkify('Yjs: https://en.wikipedia.org/wiki/Yjs_(software)')).toEqual([
      { kind: 'text', text: 'Yjs: ' },
      { kind: 'link', text: 'https://en.wikipedia.org/wiki/Yjs_(software)', href: 'https://en.wikipedia.org/wiki/Yjs_(software)' },
    ]);
    expect(linkify('(see https://example.com/docs)')).toEqual([
      { kind: 'text', text: '(see ' },
      { kind: 'link', text: 'https://example.com/docs', href: 'https://example.com/docs' },
      { kind: 'text', text: ')' },
    ]);
  });

  it('links bare domains over https and e-mail addresses to mailto', () => {
    expect(linkify('write to ada@example.org or visit example.com/about!')).toEqual([
      { kind: 'text', text: 'write to ' },
      { kind: 'link', text: 'ada@example.org', href: 'mailto:ada@example.org' },
      { kind: 'text', text: ' or visit ' },
      { kind: 'link', text: 'example.com/about', href: 'https://example.com/about' },
      { kind: 'text', text: '!' },
    ]);
    expect(linkify('mailto:bob@example.net')).toEqual([{ kind: 'link', text: 'mailto:bob@example.net', href: 'mailto:bob@example.net' }]);
  });

  it('leaves file names, version numbers and abbreviations alone', () => {
    const text = 'node.js 1.2.3, e.g. index.html and notes.txt';
    expect(linkify(text)).toEqual([{ kind: 'text', text }]);
  });

  it('interprets no markup and links no other scheme', () => {
    expect(linkify('<b>hi</b> javascript:alert(1) ftp://example.com/x //example.com')).toEqual([
      { kind: 'text', text: '<b>hi</b> javascript:alert(1) ftp://example.com/x //example.com' },
    ]);
  });

  it('gives back the text unchanged, run by run', () => {
    const text = 'a https://x.org/(1)(2) b c@d.io e';
    expect(
      linkify(text)
        .map((p) => p.text)
        .join(''),
    ).toBe(text);
  });
});

describe('emojiOnly', () => {
  it('is one to three emoji, spaces aside', () => {
    for (const text of ['😀', ' 🎉 ', '👍🏽👍', '👨‍👩‍👧 ❤️ 🇫🇷', '1️⃣', '🥞☕', '🏳️‍🌈']) expect(emojiOnly(text), text).toBe(true);
  });

  it('is not four emoji, text with emoji, digits or a text symbol', () => {
    for (const text of ['😀😀😀😀', 'ok 👍', '123', '#', '©', '™', '', '   ', ':)']) expect(emojiOnly(text), text).toBe(false);
  });

  it('tells a text starting with a letter without segmenting it, and still segments a keycap or an emoji first', () => {
    const segment = vi.spyOn(Intl.Segmenter.prototype, 'segment');
    try {
      expect(emojiOnly('History #10000')).toBe(false);
      expect(emojiOnly(' ok 👍')).toBe(false);
      expect(segment).not.toHaveBeenCalled();
      expect(emojiOnly('#️⃣')).toBe(true);
      expect(emojiOnly('👍 ok')).toBe(false);
      expect(segment).toHaveBeenCalledTimes(2);
    } finally {
      segment.mockRestore();
    }
  });
});
