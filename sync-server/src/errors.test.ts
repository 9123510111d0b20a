import { describe, expect, test } from 'vitest';
import { CLOSE_CODES, ERROR_CODES, RESYNC_REFUSALS, type ErrorCode } from '@parley/protocol';
import { closeCodeOf, Refusal, statusOf } from './errors.ts';

/** Every code a sync socket is refused with before its close (sockets.ts): its token, hub.open, the upgrade rate, a dropped document, a slow reader. */
const SOCKET_CLOSES: Record<string, readonly ErrorCode[]> = {
  [CLOSE_CODES.unauthorized]: ['token-missing', 'token-expired', 'token-invalid', 'session-revoked'],
  [CLOSE_CODES.forbidden]: ['not-member', 'not-owner-doc', 'user-not-found'],
  [CLOSE_CODES.notFound]: ['not-found'],
  [CLOSE_CODES.tooMany]: ['too-many-sockets', 'too-many-docs', 'rate-limited'],
  [CLOSE_CODES.resync]: RESYNC_REFUSALS,
  [CLOSE_CODES.tooSlow]: ['socket-too-slow'],
};

describe('errors in one place', () => {
  test('every error code has an HTTP error status', () => {
    for (const code of ERROR_CODES) {
      const status = statusOf(code);
      expect(Number.isInteger(status), code).toBe(true);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
  });

  test('the server faults (and a process shutting down or handing a document over, or the app backend not answering) are 5xx and only they', () => {
    const faults = ERROR_CODES.filter((code) => statusOf(code) >= 500);
    expect(faults.sort()).toEqual(['callback-unavailable', 'doc-moved', 'draining', 'internal', 'storage-full', 'storage-unavailable']);
  });

  test('every code that closes a sync socket has its close code', () => {
    for (const [close, codes] of Object.entries(SOCKET_CLOSES)) {
      for (const code of codes) expect(closeCodeOf(code), code).toBe(Number(close));
    }
  });

  test('a code with no close of its own closes as forbidden, which a client does not retry', () => {
    expect(closeCodeOf('schema-invalid')).toBe(CLOSE_CODES.forbidden);
  });

  test('a refusal carries its code, and its detail as the message', () => {
    const refusal = new Refusal('user-exists', 'alice');
    expect(refusal).toBeInstanceOf(Error);
    expect([refusal.name, refusal.code, refusal.message]).toEqual(['Refusal', 'user-exists', 'alice']);
    expect(new Refusal('not-found').message).toBe('not-found');
  });
});
