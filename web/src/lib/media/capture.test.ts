import { LIMITS, MEDIA_LIMITS } from '@parley/protocol';
import { describe, expect, it, vi } from 'vitest';
import { baseMime, checkLimit, cleanCaption, formatOf, imageFormat, kindOfFile, prepare, sentName } from './capture.ts';

// The error funnel's notices are rune state, which only the Svelte compiler runs.
vi.mock('../state/notices.svelte.ts', () => ({ notices: { push: () => undefined } }));

describe('capture', () => {
  it('reads formats from media types and names', () => {
    expect(baseMime('audio/webm;codecs=opus')).toBe('audio/webm');
    expect(baseMime('')).toBe('application/octet-stream');
    expect(imageFormat('image/jpeg')).toBe('jpg');
    expect(imageFormat('image/heic')).toBe('other');
    expect(formatOf('video/webm')).toBe('webm');
    expect(formatOf('application/octet-stream', 'Report.PDF')).toBe('pdf');
    expect(formatOf('application/x-tar')).toBe('tar');
  });

  it('names a re-encoded photo after the chosen file, with the sent format', () => {
    expect(sentName('IMG_1234.JPG', 'webp')).toBe('IMG_1234.webp');
    expect(sentName('../holiday.heic', 'jpg')).toBe('holiday.jpg');
    expect(sentName('', 'webp')).toBe('file.webp');
    expect(sentName('scan', 'png')).toBe('scan.png');
  });

  it('sends a caption trimmed, capped and cleaned, and none when empty', () => {
    expect(cleanCaption('  At the beach  ')).toBe('At the beach');
    expect(cleanCaption('   ')).toBeUndefined();
    expect(cleanCaption(undefined)).toBeUndefined();
    expect(cleanCaption('x'.repeat(LIMITS.captionLength + 10))).toHaveLength(LIMITS.captionLength);
    expect(cleanCaption('a\u202Eb')).toBe('ab');
  });

  it('refuses media over its limit before anything is uploaded, in words', () => {
    let refusal: unknown;
    try {
      checkLimit('video', 120 * 1024 * 1024);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toMatchObject({ code: 'media-too-large', message: 'Videos can be at most 100 MB; this one is 120 MB.' });
    expect(() => checkLimit('image', 29 * 1024 * 1024)).toThrow('Photos can be at most 28 MB; this one is 29 MB.');
    expect(() => checkLimit('file', MEDIA_LIMITS.file)).not.toThrow();
  });

  it('sends pictures as photos, videos as videos and anything else as a file', () => {
    expect(kindOfFile(new File([''], 'a.png', { type: 'image/png' }))).toBe('image');
    expect(kindOfFile(new File([''], 'a.webm', { type: 'video/webm' }))).toBe('video');
    expect(kindOfFile(new File([''], 'a.heic', { type: 'image/heic' }))).toBe('file');
    expect(kindOfFile(new File([''], 'a.bin'))).toBe('file');
  });

  it('makes a file element with its hash, size, sanitised name and format', async () => {
    const { element, blobs } = await prepare({ kind: 'file', file: new File(['abc'], '../notes.txt', { type: 'text/plain' }) });
    expect(element).toEqual({
      type: 'file',
      media: { hash: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', size: 3, mime: 'text/plain' },
      name: 'notes.txt',
      format: 'txt',
    });
    expect(blobs).toHaveLength(1);
  });

  it('makes a location element from what the dialog gives', async () => {
    expect((await prepare({ kind: 'location', caption: '  Here  ', latitude: 48.8584, longitude: 2.2945 })).element).toEqual({
      type: 'location',
      caption: 'Here',
      latitude: 48.8584,
      longitude: 2.2945,
    });
  });
});
