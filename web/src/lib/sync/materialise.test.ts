import { describe, expect, it } from 'vitest';
import { bodyOf, conversationRow, displayOrder, messageRow, profileRow, receiptSeq, relationRow, textOfBody } from './materialise.ts';

const message = {
  id: 'm1',
  from: 'alice',
  to: 'bob',
  type: 'text',
  body: [{ type: 'text', text: 'hi' }],
  ts: Date.UTC(2025, 2, 3),
  profile: { nickname: 'Alice' },
};

describe('messageRow', () => {
  it('materialises a message with its conversation, peer and sequence', () => {
    expect(messageRow(message, 3, 'bob')).toMatchObject({ id: 'm1', conv: 'alice/bob', peer: 'alice', text: 'hi', seq: 3, order: 3, segment: '2025-03', nickname: 'Alice' });
  });

  it('orders unsequenced messages after every sequenced one', () => {
    const row = messageRow(message, undefined, 'alice');
    expect(row?.seq).toBeNull();
    expect(row?.order).toBeGreaterThan(displayOrder(1_000_000_000, 0));
  });

  it('ignores malformed values and messages of other users', () => {
    expect(messageRow('nope', 1, 'bob')).toBeNull();
    expect(messageRow({ id: 'x' }, 1, 'bob')).toBeNull();
    expect(messageRow(message, 1, 'carol')).toBeNull();
  });

  it('keeps the text of an oversized or otherwise invalid message so it can show as failed', () => {
    expect(messageRow({ ...message, body: [{ type: 'text', text: 'x'.repeat(20_000) }] }, undefined, 'alice')?.text).toHaveLength(20_000);
  });
});

describe('conversationRow', () => {
  it('reads an inbox entry', () => {
    const entry = { peer: 'bob', segment: '2025-03', lastSeq: 5, unread: 2, updatedAt: 10, last: { id: 'm', from: 'bob', preview: 'yo', ts: 9, seq: 5 } };
    expect(conversationRow(entry)).toMatchObject({ peer: 'bob', lastSeq: 5, unread: 2, preview: 'yo', lastFrom: 'bob', lastTs: 9 });
  });

  it('skips a malformed entry', () => {
    expect(conversationRow({ peer: 'bob' })).toBeNull();
  });
});

describe('receiptSeq', () => {
  it('reads a receipt sequence and rejects garbage', () => {
    expect(receiptSeq({ user: 'a', seq: 4 })).toBe(4);
    expect(receiptSeq({ seq: -1 })).toBeNull();
    expect(receiptSeq(null)).toBeNull();
  });
});

describe('system messages and relations', () => {
  it('marks a system notice and keeps its title', () => {
    const notice = { ...message, type: 'system', body: [{ type: 'system', kind: 'custom', title: 'Maintenance', text: 'Back at 2' }] };
    const row = messageRow(notice, 3, 'bob');
    expect(row?.type).toBe('system');
    expect(row?.title).toBe('Maintenance');
    expect(row?.text).toBe('Back at 2');
    expect(messageRow(message, 1, 'bob')?.type).toBe('text');
  });

  it('maps friends, blocklist and requests entries to rows, and refuses malformed ones', () => {
    expect(relationRow('friends', 'bob', { id: 'bob', since: 5 })).toEqual({ key: 'friend|bob', kind: 'friend', id: 'bob', note: '', ts: 5 });
    expect(relationRow('blocklist', 'eve', { id: 'eve', since: 7 })).toEqual({ key: 'block|eve', kind: 'block', id: 'eve', note: '', ts: 7 });
    expect(relationRow('requests', 'in|carol', { from: 'carol', to: 'me', note: 'hi', ts: 9 })).toEqual({ key: 'in|carol', kind: 'in', id: 'carol', note: 'hi', ts: 9 });
    expect(relationRow('requests', 'out|dan', { from: 'me', to: 'dan', note: '', ts: 1 })?.kind).toBe('out');
    expect(relationRow('requests', 'sideways|x', { ts: 1 })).toBeNull();
    expect(relationRow('friends', 'bob', 'nonsense')).toBeNull();
  });
});

describe('message bodies', () => {
  const hash = 'a'.repeat(64);
  const picture = { media: { hash, size: 10, mime: 'image/png' }, width: 640, height: 480 };

  it('keeps every element of the body and describes it in words for search and previews', () => {
    const body = [
      { type: 'image', format: 'png', original: picture, thumbnail: { ...picture, width: 320, height: 240 } },
      { type: 'text', text: 'the view' },
    ];
    const row = messageRow({ ...message, type: 'image', body }, 4, 'bob');
    expect(row?.type).toBe('image');
    expect(row?.body).toEqual(body);
    expect(row?.text).toBe('📷 Photo\nthe view');
  });

  it('drops malformed elements but keeps the words of a malformed one', () => {
    expect(bodyOf([{ type: 'image', format: 'png' }, { type: 'nonsense', text: 'still words' }, 7])).toEqual([{ type: 'text', text: 'still words' }]);
    expect(bodyOf('not a body')).toEqual([]);
  });

  it('describes a location and a voice message', () => {
    expect(textOfBody([{ type: 'location', caption: 'Café', latitude: 1, longitude: 2 }])).toBe('📍 Café');
    expect(textOfBody([{ type: 'voice', media: { hash, size: 1, mime: 'audio/webm' }, duration: 65, format: 'webm' }])).toBe('🎤 Voice message (1:05)');
  });
});

describe('profileRow', () => {
  it('keeps the about line, and leaves out an empty one', () => {
    expect(profileRow({ id: 'bob', nickname: 'Bob', about: 'Out climbing' })).toEqual({ id: 'bob', nickname: 'Bob', about: 'Out climbing' });
    expect(profileRow({ id: 'bob', nickname: 'Bob', about: '' })).toEqual({ id: 'bob', nickname: 'Bob' });
  });

  it('keeps an avatar uploaded to Parley and drops one of another form (no third-party fetch)', () => {
    const avatar = `/api/v1/media/${'a'.repeat(64)}`;
    expect(profileRow({ id: 'bob', nickname: 'Bob', avatar })).toEqual({ id: 'bob', nickname: 'Bob', avatar });
    expect(profileRow({ id: 'bob', nickname: 'Bob', avatar: 'https://tracker.example/p.png' })).toEqual({ id: 'bob', nickname: 'Bob' });
    expect(profileRow({ id: 'bob', nickname: 'Bob', avatar: 'data:image/png;base64,AAAA' })).toEqual({ id: 'bob', nickname: 'Bob' });
  });
});
