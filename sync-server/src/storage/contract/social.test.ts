/** The social store's contract: relations between users and the install-wide settings. */
import { expect, it } from 'vitest';
import { describeStore } from './backends.ts';

describeStore('social', (open) => {
  it('keeps relations one-way, lists requests sent to a user, and deletes them', async () => {
    const storage = open();
    await storage.changeRelations([
      { op: 'put', row: { owner: 'alice', kind: 'friend', other: 'bob', note: null, created: 1 } },
      { op: 'put', row: { owner: 'carol', kind: 'request', other: 'alice', note: 'hi', created: 2 } },
      { op: 'put', row: { owner: 'alice', kind: 'block', other: 'dave', note: null, created: 3 } },
    ]);
    const rows = (await storage.relationsOf('alice')).map((r) => `${r.owner}:${r.kind}:${r.other}:${r.note ?? ''}`).sort();
    expect(rows).toEqual(['alice:block:dave:', 'alice:friend:bob:', 'carol:request:alice:hi']);
    expect(await storage.relationsOf('bob')).toEqual([]);
    await storage.changeRelations([{ op: 'delete', owner: 'alice', kind: 'friend', other: 'bob' }]);
    expect((await storage.relationsOf('alice')).map((r) => r.kind).sort()).toEqual(['block', 'request']);
  });

  it('stores settings as JSON by key', async () => {
    const storage = open();
    expect(await storage.settings()).toEqual({});
    await storage.putSetting('messaging', 'friends');
    await storage.putSetting('blockKeepsFriendship', true);
    expect(await storage.settings()).toEqual({ messaging: 'friends', blockKeepsFriendship: true });
  });
});
