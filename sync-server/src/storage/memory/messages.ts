/** The message index, in memory. */
import type { CommitPart, Write } from '../stores/docs.ts';
import { membersOf, type IndexedMessage, type MessageIndex, type SegmentRow } from '../stores/messages.ts';

interface MessageRow extends IndexedMessage {
  conversation: string;
}

export class MemoryMessages implements MessageIndex, CommitPart {
  private readonly seqs = new Map<string, number>();
  private readonly messages: MessageRow[] = [];

  record(writes: readonly Write[]): void {
    for (const w of writes) {
      if (w.kind === 'last-seq') this.seqs.set(w.conversation, w.seq);
      else if (w.kind === 'message') this.messages.push({ conversation: w.conversation, seq: w.seq, id: w.id, from: w.from, ts: w.ts, segment: w.segment });
    }
  }

  lastSeq(conversation: string): Promise<number> {
    return Promise.resolve(this.seqs.get(conversation) ?? 0);
  }

  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number> {
    return Promise.resolve(this.messages.filter((m) => m.conversation === conversation && m.from === from && m.seq > seq).length);
  }

  peersOf(user: string): Promise<string[]> {
    const peers = [...this.seqs.keys()].map(membersOf).filter(([a, b]) => a === user || b === user);
    return Promise.resolve(peers.map(([a, b]) => (a === user ? b : a)));
  }

  segmentsOf(conversation: string): Promise<SegmentRow[]> {
    const bySegment = new Map<string, SegmentRow>();
    for (const m of this.messages) {
      if (m.conversation !== conversation) continue;
      const row = bySegment.get(m.segment);
      if (row === undefined) bySegment.set(m.segment, { segment: m.segment, count: 1, firstSeq: m.seq, lastSeq: m.seq });
      else {
        row.count++;
        row.firstSeq = Math.min(row.firstSeq, m.seq);
        row.lastSeq = Math.max(row.lastSeq, m.seq);
      }
    }
    return Promise.resolve([...bySegment.values()].sort((x, y) => (x.segment < y.segment ? -1 : x.segment > y.segment ? 1 : 0)));
  }

  messagesOf(conversation: string, r: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]> {
    const rows = this.messages
      .filter((m) => m.conversation === conversation && m.seq > r.afterSeq && m.ts >= r.from && m.ts <= r.to)
      .sort((x, y) => x.seq - y.seq)
      .slice(0, r.limit);
    return Promise.resolve(rows.map(({ seq, id, from, ts, segment }) => ({ seq, id, from, ts, segment })));
  }
}
