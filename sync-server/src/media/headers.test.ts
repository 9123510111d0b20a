import { describe, expect, it } from 'vitest';
import { contentDisposition, normaliseMime, parseRange, safeFileName, servedType } from './headers.ts';

describe('media headers', () => {
  it('normalises a mime type to a bare lower-case type/subtype', () => {
    expect(normaliseMime(' Image/PNG ; charset=binary')).toBe('image/png');
    expect(normaliseMime('audio/webm;codecs=opus')).toBe('audio/webm');
    expect(normaliseMime('not a type')).toBe('application/octet-stream');
    expect(normaliseMime('text/html\r\nx-evil: 1')).toBe('application/octet-stream');
  });

  it('serves only inert media types inline, everything else as octet-stream', () => {
    expect(servedType('image/jpeg')).toEqual({ type: 'image/jpeg', inline: true });
    expect(servedType('VIDEO/MP4')).toEqual({ type: 'video/mp4', inline: true });
    for (const scriptable of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/pdf', 'text/javascript', 'application/json']) {
      expect(servedType(scriptable), scriptable).toEqual({ type: 'application/octet-stream', inline: false });
    }
  });

  it('sanitises a file name: no separators, controls or bidi overrides', () => {
    expect(safeFileName('../../x')).toBe('.._.._x');
    expect(safeFileName('..\\..\\windows\\x.exe')).toBe('.._.._windows_x.exe');
    expect(safeFileName('a\u0000b\nc\u007fd.txt')).toBe('abcd.txt');
    expect(safeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('  ')).toBe('file');
    expect(safeFileName('报告 2024.pdf')).toBe('报告 2024.pdf');
    expect([...safeFileName('😀'.repeat(300))]).toHaveLength(255);
  });

  it('encodes the name as an RFC 8187 filename*', () => {
    expect(contentDisposition('attachment', '../../x')).toBe("attachment; filename*=UTF-8''.._.._x");
    expect(contentDisposition('inline', "it's (a) *test* é.png")).toBe("inline; filename*=UTF-8''it%27s%20%28a%29%20%2Atest%2A%20%C3%A9.png");
    expect(contentDisposition('attachment', 'a"b;c.txt')).toBe("attachment; filename*=UTF-8''a%22b%3Bc.txt");
  });

  it('parses one byte range, or says it cannot be satisfied, or ignores it', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=100-200', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    // Malformed, reversed or several ranges: the whole is sent (RFC 9110 lets a server ignore them).
    expect(parseRange('bytes=9-1', 100)).toBeNull();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=-', 100)).toBeNull();
  });
});
