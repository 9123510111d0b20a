/** The message index's contract: written by commits, read without loading documents. */
import { expect, it } from 'vitest';
import { describeStore } from './backends.ts';

describeStore('messages', (open) => {
  it('lists the segments of a conversation with their counts and sequence ranges, oldest first', async () => {
    const s = open();
    expect(await s.segmentsOf('a/b')).toEqual([]);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '2024-02' },
      { kind: 'message', conversation: 'a/b', seq: 2, id: 'm2', from: 'b', ts: 2, segment: '2024-02' },
      { kind: 'message', conversation: 'a/c', seq: 1, id: 'm3', from: 'a', ts: 3, segment: '2024-02' },
    ]);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 3, id: 'm4', from: 'a', ts: 0, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 4, id: 'm5', from: 'a', ts: 4, segment: '2024-02' },
    ]);
    expect(await s.segmentsOf('a/b')).toEqual([
      { segment: '2024-01', count: 1, firstSeq: 3, lastSeq: 3 },
      { segment: '2024-02', count: 3, firstSeq: 1, lastSeq: 4 },
    ]);
    expect(await s.segmentsOf('a/c')).toEqual([{ segment: '2024-02', count: 1, firstSeq: 1, lastSeq: 1 }]);
  });

  it('keeps the last sequence and counts messages per sender', async () => {
    const s = open();
    expect(await s.lastSeq('a/b')).toBe(0);
    await s.commit([
      { kind: 'message', conversation: 'a/b', seq: 1, id: 'm1', from: 'a', ts: 1, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 2, id: 'm2', from: 'b', ts: 2, segment: '2024-01' },
      { kind: 'message', conversation: 'a/b', seq: 3, id: 'm3', from: 'b', ts: 3, segment: '2024-01' },
      { kind: 'last-seq', conversation: 'a/b', seq: 3 },
    ]);
    expect(await s.lastSeq('a/b')).toBe(3);
    expect(await s.countMessagesAfter('a/b', 'b', 1)).toBe(2);
    expect(await s.countMessagesAfter('a/b', 'b', 2)).toBe(1);
    expect(await s.countMessagesAfter('a/b', 'a', 1)).toBe(0);
    expect(await s.peersOf('a')).toEqual(['b']);
    expect(await s.peersOf('b')).toEqual(['a']);
  });

  it('pages a conversation\'s indexed messages by time and sequence', async () => {
    const storage = open();
    await storage.commit([1, 2, 3].map((seq) => ({ kind: 'message', conversation: 'a/b', seq, id: `m${seq}`, from: 'a', ts: seq * 10, segment: '2026-01' }) as const));
    expect((await storage.messagesOf('a/b', { from: 0, to: 100, afterSeq: 1, limit: 1 })).map((m) => m.id)).toEqual(['m2']);
    expect((await storage.messagesOf('a/b', { from: 15, to: 25, afterSeq: 0, limit: 10 }))[0]).toEqual({ seq: 2, id: 'm2', from: 'a', ts: 20, segment: '2026-01' });
  });
});
