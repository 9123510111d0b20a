import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLog } from '../log.ts';
import { MemoryStorage } from '../storage/memory.ts';
import { Accounts } from './accounts.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { Sessions } from './sessions.ts';
import { Tokens } from './tokens.ts';

vi.mock('./passwords.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./passwords.ts')>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

afterEach(() => vi.mocked(verifyPassword).mockClear());

describe('sign-in refusals take the same work', () => {
  it('runs one scrypt verification for an unknown user, a user without a password and a wrong password alike', async () => {
    const storage = new MemoryStorage();
    const sessions = await Sessions.load(storage, 90 * 24 * 3600_000, createLog('silent'));
    const accounts = new Accounts(storage, new Tokens('j'.repeat(32), 'a'.repeat(32), 3600, sessions), sessions);
    await storage.createUser({ id: 'alice', passwordHash: await hashPassword('correct horse'), nickname: 'alice', avatar: null, role: 'user', created: 1 });
    await storage.createUser({ id: 'appuser', passwordHash: null, nickname: 'appuser', avatar: null, role: 'user', created: 1 });
    for (const user of ['alice', 'nobody', 'appuser']) {
      vi.mocked(verifyPassword).mockClear();
      await expect(accounts.signIn({ user, password: 'wrong password', device: 'd' }, 'test')).rejects.toMatchObject({ code: 'bad-credentials' });
      expect(vi.mocked(verifyPassword), user).toHaveBeenCalledTimes(1);
      const hash = vi.mocked(verifyPassword).mock.calls[0]?.[1] ?? '';
      expect(hash.startsWith('scrypt$16384$8$1$'), user).toBe(true);
    }
  });
});
