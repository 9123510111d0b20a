import { describe, expect, test } from 'vitest';
import { ERROR_CODES, ERROR_MESSAGES, errorBody, errorMessage, isErrorCode } from './codes.ts';

/** Every code the update validator can refuse with. */
const VALIDATOR_CODES = [
  'client-id-taken',
  'reset-required',
  'read-only',
  'unknown-root',
  'nested-type',
  'schema-invalid',
  'not-author',
  'not-owner',
  'duplicate-id',
  'wrong-conversation',
  'body-too-long',
  'system-reserved',
  'duplicate-action',
  'action-too-long',
  'message-not-found',
] as const;

describe('error codes', () => {
  test('every code has a message for people', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(0);
    for (const code of ERROR_CODES) {
      expect(errorMessage(code).trim().length, code).toBeGreaterThan(0);
      expect(errorMessage(code)).toBe(ERROR_MESSAGES[code]);
    }
  });

  test('codes are unique kebab-case', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  test('the validator codes are all known codes', () => {
    for (const code of VALIDATOR_CODES) expect(isErrorCode(code), code).toBe(true);
  });

  test('isErrorCode refuses anything else, including inherited names', () => {
    for (const value of ['nope', '', 'toString', '__proto__', 'constructor', 42, null, undefined, {}]) {
      expect(isErrorCode(value)).toBe(false);
    }
  });

  test('errorBody has the one error shape with the default message', () => {
    expect(errorBody('not-found')).toEqual({ error: { code: 'not-found', message: ERROR_MESSAGES['not-found'] } });
    expect(Object.keys(errorBody('internal'))).toEqual(['error']);
    expect(Object.keys(errorBody('internal').error).sort()).toEqual(['code', 'message']);
  });

  test('errorBody takes a specific message', () => {
    expect(errorBody('bad-request', 'user: required')).toEqual({ error: { code: 'bad-request', message: 'user: required' } });
  });

  test('errorBody survives a JSON round trip', () => {
    const body = errorBody('token-expired');
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });
});
