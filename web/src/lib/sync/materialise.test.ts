import { describe, expect, it } from 'vitest';
import { conversationRow, displayOrder, messageRow, receiptSeq } from './materialise.ts';

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
