/** The sessions store's contract. */
import { expect, it } from 'vitest';
import type { SessionRecord } from '../storage.ts';
import { describeStore } from './backends.ts';

describeStore('sessions', (open) => {
  it('keeps sessions by id and user, rotates a refresh hash only from its current value, and deletes them', async () => {
    const s = open();
    const phone: SessionRecord = { id: 's1', user: 'alice', device: 'phone', label: 'Firefox on Android', created: 10, lastUsed: 10, refreshHash: 'h1' };
    const laptop: SessionRecord = { ...phone, id: 's2', device: 'laptop', label: 'Chrome on Linux', created: 20, lastUsed: 20, refreshHash: 'h2' };
    await s.putSession(phone);
    await s.putSession(laptop);
    await s.putSession({ ...phone, id: 's3', user: 'bob' });
    expect(await s.getSession('s1')).toEqual(phone);
    expect((await s.sessionsOf('alice')).map((x) => x.id)).toEqual(['s1', 's2']);
    expect((await s.sessions()).map((x) => x.id).sort()).toEqual(['s1', 's2', 's3']);

    expect(await s.rotateSession('s1', 'h1', 'h1b', 30)).toBe(true);
    // The old hash no longer rotates it: a refresh token works once.
    expect(await s.rotateSession('s1', 'h1', 'h1c', 40)).toBe(false);
    expect(await s.getSession('s1')).toEqual({ ...phone, refreshHash: 'h1b', lastUsed: 30 });
    await s.touchSession('s1', 50);
    await s.touchSession('s1', 45);
    expect((await s.getSession('s1'))?.lastUsed).toBe(50);

    await s.deleteSessions(['s1', 's3']);
    expect(await s.getSession('s1')).toBeUndefined();
    expect((await s.sessions()).map((x) => x.id)).toEqual(['s2']);
    expect(await s.rotateSession('s1', 'h1b', 'x', 60)).toBe(false);
  });
});
