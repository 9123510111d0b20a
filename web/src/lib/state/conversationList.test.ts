import { describe, expect, it } from 'vitest';
import type { ConversationRow } from '../db.ts';
import { arrange, itemOf } from './conversationList.ts';

const row = (peer: string, lastTs: number, extra: Partial<ConversationRow> = {}): ConversationRow => ({
  peer,
  segment: '2026-11',
  lastSeq: 4,
  lastId: `${peer}-4`,
  lastFrom: peer,
  preview: `hi from ${peer}`,
  lastTs,
  unread: 2,
  updatedAt: lastTs,
  ...extra,
});

const prefs = {
  reads: new Map([['bob', 4]]),
  muted: new Set(['dan']),
  pins: new Map([
    ['carol', { peer: 'carol', pinned: true, ts: 5 }],
    ['dan', { peer: 'dan', pinned: true, ts: 9 }],
  ]),
  archives: new Map([
    ['erin', { peer: 'erin', archived: true, ts: 100 }],
    ['frank', { peer: 'frank', archived: true, ts: 100 }],
  ]),
  drafts: new Map([['bob', { peer: 'bob', text: 'see you', ts: 1 }]]),
  profiles: new Map([['bob', { id: 'bob', nickname: 'Bob Chen' }]]),
  systemIds: new Set<string>(),
  recalls: new Map<string, string>(),
};

describe('the conversation list', () => {
  // Newest first, as loadLists hands them over.
  const items = [row('frank', 120), row('erin', 90), row('bob', 60), row('carol', 50), row('dan', 40)].map((r) => itemOf(r, 'alice', prefs));
  const { main, archived } = arrange(items, prefs.pins);

  it('puts pinned conversations first, the latest pinned on top, then the rest by time', () => {
    expect(main.map((i) => i.peer)).toEqual(['dan', 'carol', 'frank', 'bob']);
  });

  it('keeps an archived conversation apart until a message newer than the archiving', () => {
    expect(archived.map((i) => i.peer)).toEqual(['erin']);
    expect(main.find((i) => i.peer === 'frank')?.archived).toBe(false);
  });

  it('shows the draft, the mute, and no unread once the merged read marker reaches the last message', () => {
    const bob = main.find((i) => i.peer === 'bob');
    expect(bob).toMatchObject({ name: 'Bob Chen', draft: 'see you', unread: 0 });
    expect(main.find((i) => i.peer === 'dan')).toMatchObject({ muted: true, pinned: true, unread: 2 });
  });

  it('words a recalled last message as the conversation does, without "You:", from the inbox or from the device', () => {
    const fromInbox = itemOf(row('bob', 10, { lastFrom: 'alice', preview: 'Alice recalled a message', recalledBy: 'alice' }), 'alice', prefs);
    expect(fromInbox).toMatchObject({ preview: 'You recalled a message', mine: false });
    expect(itemOf(row('alice', 10, { preview: 'Alice recalled a message', recalledBy: 'alice' }), 'bob', prefs)).toMatchObject({ preview: 'alice recalled a message', mine: false });
    const local = { ...prefs, recalls: new Map([['bob-4', 'alice']]) };
    expect(itemOf(row('bob', 10, { lastFrom: 'alice', preview: 'Message recalled' }), 'alice', local)).toMatchObject({ preview: 'You recalled a message', mine: false });
    expect(itemOf(row('bob', 10, { recalledBy: '@admin' }), 'alice', prefs).preview).toBe('A message was recalled by an admin');
  });
});

describe('a last message deleted for me', () => {
  it('gives way in the preview to the newest message I did not delete, with "You:" only when that one is mine', () => {
    const shown = new Map([
      ['bob', { preview: 'see you at 8', from: 'bob' }],
      ['carol', { preview: 'my last words', from: 'alice' }],
      ['dan', { preview: '', from: '' }],
    ]);
    const local = { ...prefs, shown };
    expect(itemOf(row('bob', 10, { lastFrom: 'alice', preview: 'the hidden one' }), 'alice', local)).toMatchObject({ preview: 'see you at 8', mine: false });
    expect(itemOf(row('carol', 10, { lastFrom: 'carol', preview: 'the hidden one' }), 'alice', local)).toMatchObject({ preview: 'my last words', mine: true });
    expect(itemOf(row('dan', 10, { preview: 'the hidden one' }), 'alice', local)).toMatchObject({ preview: '', mine: false });
  });
});
