import { describe, expect, it } from 'vitest';
import data from './emoji-data.json';
import { gridMove, parseEmojiData, pushRecent, searchEmoji } from './emoji.ts';

const groups = parseEmojiData(data);

describe('emoji data', () => {
  it('holds every Unicode group with named emoji', () => {
    expect(groups.map((g) => g.id)).toEqual(['smileys', 'people', 'nature', 'food', 'travel', 'activities', 'objects', 'symbols', 'flags']);
    const all = groups.flatMap((g) => g.emoji);
    expect(all.length).toBeGreaterThan(1800);
    expect(all.every((e) => e.char !== '' && e.name !== '')).toBe(true);
    expect(groups[0]?.emoji[0]).toMatchObject({ char: '😀', name: 'grinning face' });
  });
});

describe('emoji search', () => {
  it('puts a whole-word name match before a keyword match', () => {
    const hearts = searchEmoji(groups, 'heart').map((e) => e.char);
    expect(hearts[0]).toBe('❤️');
    expect(hearts).toContain('😍');
    expect(hearts.indexOf('❤️')).toBeLessThan(hearts.indexOf('😍'));
  });

  it('finds by keyword and by the start of a word, every word required', () => {
    expect(searchEmoji(groups, 'happy').map((e) => e.char)).toContain('😀');
    expect(searchEmoji(groups, 'thum').map((e) => e.char)[0]).toBe('👍');
    expect(searchEmoji(groups, 'cat face').map((e) => e.char)).toContain('🐱');
    expect(searchEmoji(groups, 'cat face').map((e) => e.char)).not.toContain('🐶');
    expect(searchEmoji(groups, 'zzzqqq')).toEqual([]);
    expect(searchEmoji(groups, '  ')).toEqual([]);
  });
});

describe('recent emoji', () => {
  it('keeps the most recent first, once each, up to the limit', () => {
    expect(pushRecent(['😀', '👍', '🎉'], '👍')).toEqual(['👍', '😀', '🎉']);
    expect(pushRecent(['a', 'b', 'c'], 'd', 3)).toEqual(['d', 'a', 'b']);
  });
});

describe('picker keyboard', () => {
  // Two sections of 10 and 3, eight columns: rows [0-7] [8-9] | [10-12].
  const sections = [10, 3];
  it('moves by cell and by row, keeping the column where the row allows', () => {
    expect(gridMove('ArrowRight', 0, sections, 8)).toBe(1);
    expect(gridMove('ArrowLeft', 0, sections, 8)).toBe(0);
    expect(gridMove('ArrowDown', 1, sections, 8)).toBe(9);
    expect(gridMove('ArrowDown', 5, sections, 8)).toBe(9);
    expect(gridMove('ArrowDown', 9, sections, 8)).toBe(11);
    expect(gridMove('ArrowUp', 11, sections, 8)).toBe(9);
    expect(gridMove('ArrowDown', 12, sections, 8)).toBe(12);
    expect(gridMove('ArrowRight', 12, sections, 8)).toBe(12);
  });

  it('goes to the row ends with Home and End, and by four rows with Page keys', () => {
    expect(gridMove('Home', 5, sections, 8)).toBe(0);
    expect(gridMove('End', 2, sections, 8)).toBe(7);
    expect(gridMove('End', 10, sections, 8)).toBe(12);
    expect(gridMove('PageDown', 3, sections, 8)).toBe(12);
    expect(gridMove('PageUp', 12, sections, 8)).toBe(2);
    expect(gridMove('a', 3, sections, 8)).toBeNull();
    expect(gridMove('ArrowDown', 0, [], 8)).toBeNull();
  });
});
