import { describe, expect, it } from 'vitest';
import { planReapply, type DocView } from './outboxPlan.ts';

function view(messages: Record<string, { from: string }>, seqs: Record<string, number> = {}): DocView {
  return { message: (id) => messages[id], seq: (id) => seqs[id] };
}

describe('planReapply', () => {
  it('writes again a pending entry the document lacks (a reset or a lost write)', () => {
    expect(planReapply([{ id: 'a', state: 'pending' }], view({}), 'me')).toEqual({ write: ['a'], accepted: [] });
  });

  it('waits for the ack of a pending entry the document holds unstamped', () => {
    expect(planReapply([{ id: 'a', state: 'pending' }], view({ a: { from: 'me' } }), 'me')).toEqual({ write: [], accepted: [] });
  });

  it('drops an entry the server stamped although its ack never arrived', () => {
    expect(planReapply([{ id: 'a', state: 'pending' }], view({ a: { from: 'me' } }, { a: 7 }), 'me')).toEqual({ write: [], accepted: ['a'] });
  });

  it('treats a duplicate-id refusal of a message the server holds as sent', () => {
    const entries = [{ id: 'a', state: 'failed' as const, code: 'duplicate-id' as const }];
    expect(planReapply(entries, view({ a: { from: 'me' } }, { a: 3 }), 'me').accepted).toEqual(['a']);
  });

  it('never re-sends a failed entry: the user retries or deletes it', () => {
    const entries = [{ id: 'a', state: 'failed' as const, code: 'body-too-long' as const }];
    expect(planReapply(entries, view({}), 'me')).toEqual({ write: [], accepted: [] });
  });

  it('does not count a same-id message by someone else as accepted', () => {
    expect(planReapply([{ id: 'a', state: 'pending' }], view({ a: { from: 'eve' } }, { a: 1 }), 'me')).toEqual({ write: [], accepted: [] });
  });

  it('holds back a media message until its uploads are done', () => {
    expect(planReapply([{ id: 'a', state: 'pending', uploads: 'pending' }], view({}), 'me')).toEqual({ write: [], accepted: [] });
    expect(planReapply([{ id: 'a', state: 'pending', uploads: 'done' }], view({}), 'me')).toEqual({ write: ['a'], accepted: [] });
  });
});
