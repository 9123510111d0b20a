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

  it('keeps invites by id, finds one by its token hash, lists an owner\'s and deletes only the owner\'s', async () => {
    const storage = open();
    const invite = { id: 'i1', owner: 'alice', tokenHash: 'h1', created: 1, expires: 100 };
    await storage.putInvite(invite);
    await storage.putInvite({ ...invite, id: 'i2', tokenHash: 'h2', created: 2 });
    await storage.putInvite({ ...invite, id: 'i3', owner: 'bob', tokenHash: 'h3' });
    expect(await storage.inviteByHash('h2')).toEqual({ ...invite, id: 'i2', tokenHash: 'h2', created: 2 });
    expect(await storage.inviteByHash('nope')).toBeUndefined();
    expect((await storage.invitesOf('alice')).map((i) => i.id)).toEqual(['i1', 'i2']);
    expect(await storage.deleteInvites('alice', ['i1', 'i3', 'zz'])).toBe(1);
    expect((await storage.invitesOf('alice')).map((i) => i.id)).toEqual(['i2']);
    expect(await storage.inviteByHash('h3')).toMatchObject({ owner: 'bob' });
  });
});
