/** The users store's contract. */
import { DEFAULT_PRIVACY } from '@parley/protocol';
import { expect, it } from 'vitest';
import type { UserRecord } from '../storage.ts';
import { describeStore } from './backends.ts';

const alice: UserRecord = { id: 'alice', passwordHash: 'h', nickname: 'Alice', avatar: null, role: 'user', created: 1 };
/** Alice as read back: a new user has the default privacy settings, no last-seen time, no about line, and is not deleted. */
const stored: UserRecord = { ...alice, about: '', privacy: DEFAULT_PRIVACY, lastSeen: null, deleted: null, erased: null };

describeStore('users', (open) => {
  it('creates a user once and updates its profile', async () => {
    const s = open();
    expect(await s.createUser(alice)).toBe(true);
    expect(await s.createUser({ ...alice, nickname: 'Other' })).toBe(false);
    expect(await s.getUser('alice')).toEqual(stored);
    expect(await s.updateUser('alice', { nickname: 'Al' })).toEqual({ ...stored, nickname: 'Al' });
    expect(await s.updateUser('nobody', { nickname: 'x' })).toBeUndefined();
    expect(await s.getUser('nobody')).toBeUndefined();
  });

  it('keeps user ids unique regardless of case, each keeping its own case', async () => {
    const s = open();
    expect(await s.createUser({ ...alice, id: 'Alice' })).toBe(true);
    expect(await s.createUser(alice)).toBe(false);
    expect(await s.createUser({ ...alice, id: 'ALICE' })).toBe(false);
    expect(await s.getUser('alice')).toBeUndefined();
    expect(await s.getUser('Alice')).toMatchObject({ id: 'Alice' });
    expect(await s.findUser('aLiCe')).toMatchObject({ id: 'Alice' });
    expect(await s.findUser('bob')).toBeUndefined();
  });

  it('changes a password hash with the profile patch', async () => {
    const s = open();
    await s.createUser(alice);
    expect((await s.updateUser('alice', { passwordHash: 'h2' }))?.passwordHash).toBe('h2');
    expect((await s.getUser('alice'))?.nickname).toBe('Alice');
  });

  it('keeps privacy settings and the last-seen time, each changed on its own', async () => {
    const s = open();
    await s.createUser(alice);
    expect(await s.updateUser('alice', { readReceipts: false })).toMatchObject({ privacy: { readReceipts: false, presence: 'everyone' }, lastSeen: null });
    expect(await s.updateUser('alice', { presence: 'contacts', lastSeen: 1_700_000_000_000 })).toMatchObject({
      privacy: { readReceipts: false, presence: 'contacts' },
      lastSeen: 1_700_000_000_000,
    });
    expect(await s.updateUser('alice', { readReceipts: true, nickname: 'Al' })).toMatchObject({ nickname: 'Al', privacy: { readReceipts: true, presence: 'contacts' } });
    expect(await s.getUser('alice')).toMatchObject({ privacy: { readReceipts: true, presence: 'contacts' }, lastSeen: 1_700_000_000_000 });
  });

  it('keeps the about line, changed on its own and removed with an empty one', async () => {
    const s = open();
    await s.createUser({ ...alice, about: 'Hi there' });
    expect(await s.getUser('alice')).toMatchObject({ about: 'Hi there' });
    expect(await s.updateUser('alice', { about: 'Gone fishing 🎣' })).toMatchObject({ about: 'Gone fishing 🎣', nickname: 'Alice' });
    expect(await s.updateUser('alice', { nickname: 'Al' })).toMatchObject({ about: 'Gone fishing 🎣', nickname: 'Al' });
    expect(await s.updateUser('alice', { about: '' })).toMatchObject({ about: '' });
    expect(await s.getUser('alice')).toMatchObject({ about: '', nickname: 'Al' });
  });

  it('removes the avatar with a null, and keeps it when the patch leaves it out', async () => {
    const s = open();
    await s.createUser(alice);
    await s.updateUser('alice', { avatar: '/api/v1/media/a' });
    expect(await s.updateUser('alice', { nickname: 'Al' })).toMatchObject({ avatar: '/api/v1/media/a' });
    expect(await s.updateUser('alice', { avatar: null })).toMatchObject({ avatar: null, nickname: 'Al' });
    expect(await s.isAvatar('/api/v1/media/a')).toBe(false);
  });

  it("tells whether a URL is some user's avatar", async () => {
    const s = open();
    await s.createUser(alice);
    expect(await s.isAvatar('/api/v1/media/a')).toBe(false);
    await s.updateUser('alice', { avatar: '/api/v1/media/a' });
    expect(await s.isAvatar('/api/v1/media/a')).toBe(true);
    expect(await s.isAvatar('/api/v1/media/b')).toBe(false);
  });

  it('searches ids by prefix and nicknames by the start of a word, regardless of case; a hidden user only by exact id', async () => {
    const s = open();
    const user = (id: string, nickname: string): UserRecord => ({ ...alice, id, nickname });
    for (const u of [user('Alice', 'Alice Liddell'), user('alfred', 'Alfie'), user('bob', 'Robert Al_Smith'), user('carol', 'Carol Ball'), user('al%x', 'Percent')]) {
      await s.createUser(u);
    }
    const ids = async (q: string, after: string | null = null, limit = 20): Promise<string[]> => (await s.searchUsers(q, after, limit)).map((u) => u.id);
    expect(await ids('al')).toEqual(['Alice', 'al%x', 'alfred', 'bob']);
    expect(await ids('ALI')).toEqual(['Alice']);
    expect(await ids('lid')).toEqual(['Alice']);
    expect(await ids('iddell')).toEqual([]);
    // LIKE's wildcards are literal characters.
    expect(await ids('al_')).toEqual(['bob']);
    expect(await ids('al%')).toEqual(['al%x']);
    // Paged in id order (code units): after a cursor, at most `limit`.
    expect(await ids('al', null, 2)).toEqual(['Alice', 'al%x']);
    expect(await ids('al', 'al%x', 2)).toEqual(['alfred', 'bob']);
    expect((await s.getUser('Alice'))?.privacy?.discoverable).toBe(true);
    expect((await s.updateUser('Alice', { discoverable: false }))?.privacy?.discoverable).toBe(false);
    expect(await ids('al')).toEqual(['al%x', 'alfred', 'bob']);
    expect(await ids('lid')).toEqual([]);
    expect(await ids('alic')).toEqual([]);
    expect(await ids('aLiCe')).toEqual(['Alice']);
    await s.updateUser('Alice', { discoverable: true });
    expect(await ids('lid')).toEqual(['Alice']);
  });

  it('turns a deleted user into a tombstone once, lists it until its erasure is recorded, and never finds it in search', async () => {
    const s = open();
    await s.createUser({ ...alice, avatar: `/api/v1/media/${'a'.repeat(64)}` });
    await s.createUser({ ...alice, id: 'alicia', nickname: 'Alicia' });
    const tomb = await s.deleteUser('alice', 100);
    expect(tomb).toMatchObject({ id: 'alice', passwordHash: null, nickname: 'Deleted account', avatar: null, deleted: 100, erased: null });
    expect(tomb?.privacy?.discoverable).toBe(false);
    // A retry keeps the first time.
    expect((await s.deleteUser('alice', 200))?.deleted).toBe(100);
    expect(await s.deleteUser('nobody', 1)).toBeUndefined();
    expect(await s.deletingUsers()).toEqual(['alice']);
    expect((await s.searchUsers('alice', null, 10)).map((u) => u.id)).toEqual([]);
    expect((await s.searchUsers('ali', null, 10)).map((u) => u.id)).toEqual(['alicia']);
    expect(await s.isAvatar(`/api/v1/media/${'a'.repeat(64)}`)).toBe(false);
    expect((await s.updateUser('alice', { erased: 300 }))?.erased).toBe(300);
    expect(await s.deletingUsers()).toEqual([]);
    // Still taken, in any case.
    expect(await s.createUser({ ...alice, id: 'ALICE' })).toBe(false);
  });
});
