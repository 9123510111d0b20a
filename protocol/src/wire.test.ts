import { describe, expect, test } from 'vitest';
import { CLOSE_CODES, type ControlFrame, MESSAGE_AWARENESS, MESSAGE_CONTROL, MESSAGE_QUERY_AWARENESS, MESSAGE_SYNC, parseControlFrame } from './wire.ts';

describe('parseControlFrame', () => {
  test('parses ack, reject, limits and refused frames', () => {
    const frames: ControlFrame[] = [
      { type: 'ack', client: 101, clock: 7, msgIds: ['m1', 'm2'] },
      { type: 'reject', code: 'not-author', message: 'A message must name its sender as its author.', msgIds: ['m1'] },
      { type: 'limits', maxFrameBytes: 16 * 1024 * 1024, maxUpdateBytes: 4 * 1024 * 1024, maxUpdateStructs: 10_000, writeBurst: 50 },
      { type: 'refused', code: 'token-expired', message: 'Your session has expired. Sign in again.' },
    ];
    for (const frame of frames) expect(parseControlFrame(JSON.stringify(frame))).toEqual(frame);
  });

  test('returns null for text that is not JSON', () => {
    for (const text of ['', 'ack', '{', '{"type":"ack"', 'undefined']) expect(parseControlFrame(text), text).toBeNull();
  });

  test('returns null for JSON that is not a control frame', () => {
    for (const text of ['null', '42', '"ack"', 'true', '[]', '["ack"]', '{}', '{"type":"stamp"}', '{"type":null}', '{"kind":"ack"}', '{"type":"ACK"}', '{"type":"limits","maxFrameBytes":0,"maxUpdateBytes":1,"maxUpdateStructs":1,"writeBurst":1}']) {
      expect(parseControlFrame(text), text).toBeNull();
    }
  });
});

describe('wire constants', () => {
  test('the control message type does not collide with y-websocket types', () => {
    expect(new Set([MESSAGE_SYNC, MESSAGE_AWARENESS, MESSAGE_QUERY_AWARENESS, MESSAGE_CONTROL]).size).toBe(4);
    expect(MESSAGE_CONTROL).toBe(20);
  });

  test('close codes are in the application range', () => {
    for (const code of Object.values(CLOSE_CODES)) {
      expect(code).toBeGreaterThanOrEqual(4000);
      expect(code).toBeLessThan(5000);
    }
  });
});
