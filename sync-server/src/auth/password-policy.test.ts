import { describe, expect, it } from 'vitest';
import { checkPassword } from './password-policy.ts';

describe('checkPassword', () => {
  it('accepts the passwords the test harnesses use', () => {
    for (const p of ['correct horse', 'correct horse battery', 'correct horse battery staple']) expect(checkPassword('alice', p), p).toBeNull();
  });
  it('refuses fewer than 8 characters, counted as code points', () => {
    expect(checkPassword('alice', 'x7#kq9z')).toBe('password-too-weak');
    expect(checkPassword('alice', '🙂🙂🙂🙂')).toBe('password-too-weak');
    expect(checkPassword('alice', 'x7#kq9zw')).toBeNull();
  });
  it('refuses the user id, in any case', () => {
    expect(checkPassword('Jonathan99', 'jonathan99')).toBe('password-too-weak');
    expect(checkPassword('jonathan99', 'JONATHAN99')).toBe('password-too-weak');
  });
  it('refuses a commonly used password, in any case', () => {
    for (const p of ['password', 'PASSWORD1', '12345678', 'qwertyuiop', 'iloveyou', 'baseball']) expect(checkPassword('alice', p), p).toBe('password-too-weak');
  });
});
