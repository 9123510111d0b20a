/**
 * The message index in SQLite: `msg_index` (one row per accepted message,
 * WITHOUT ROWID and no second index: the biggest thing stored per message
 * after the document itself), `conversations` (each one's last sequence) and
 * `segments` (per conversation and month, the count and sequence range of
 * its messages, kept in the same transaction, so listing a conversation's
 * segments reads one row per month however long the history).
 */
import type Database from 'better-sqlite3';
import type { CommitPart, Write } from '../stores/docs.ts';
import { membersOf, type IndexedMessage, type MessageIndex, type SegmentRow } from '../stores/messages.ts';
import type { Sync } from './sync.ts';

/** Messages a commit adds to one segment of one conversation, and their sequence range. */
interface SegmentCount {
  conversation: string;
  segment: string;
  count: number;
  first: number;
  last: number;
}

export class SqliteMessages implements Sync<MessageIndex>, CommitPart {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM conversations WHERE id = ?'),
      setSeq: db.prepare<[string, string, string, number]>(
        'INSERT INTO conversations (id, a, b, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq',
      ),
      message: db.prepare<[string, number, string, string, number, string]>(
        'INSERT INTO msg_index (conversation, seq, id, sender, ts, segment) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // Walks the conversation's rows after `seq` (the unread ones, so few).
      countAfter: db.prepare<[string, number, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM msg_index WHERE conversation = ? AND seq > ? AND sender = ?',
      ),
      peers: db.prepare<[string, string, string], { peer: string }>(
        'SELECT CASE WHEN a = ? THEN b ELSE a END AS peer FROM conversations WHERE a = ? OR b = ?',
      ),
      segmentsOf: db.prepare<[string], { segment: string; count: number; first_seq: number; last_seq: number }>(
        'SELECT segment, count, first_seq, last_seq FROM segments WHERE conversation = ? ORDER BY segment',
      ),
      countSegment: db.prepare<[string, string, number, number, number]>(
        'INSERT INTO segments (conversation, segment, count, first_seq, last_seq) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (conversation, segment) DO UPDATE SET count = count + excluded.count, first_seq = MIN(first_seq, excluded.first_seq), last_seq = MAX(last_seq, excluded.last_seq)',
      ),
      messagesOf: db.prepare<[string, number, number, number, number], { seq: number; id: string; sender: string; ts: number; segment: string }>(
        'SELECT seq, id, sender, ts, segment FROM msg_index WHERE conversation = ? AND seq > ? AND ts >= ? AND ts <= ? ORDER BY seq LIMIT ?',
      ),
    };
  }

  /** Inside the commit's transaction. A batch may hold many messages of a conversation: one upsert of its last sequence, and of each segment's count. */
  record(writes: readonly Write[]): void {
    const lastSeq = new Map<string, number>();
    /** By `conversation\nsegment`. */
    const segments = new Map<string, SegmentCount>();
    for (const w of writes) {
      if (w.kind === 'last-seq') lastSeq.set(w.conversation, w.seq);
      else if (w.kind === 'message') {
        this.stmt.message.run(w.conversation, w.seq, w.id, w.from, w.ts, w.segment);
        const key = `${w.conversation}\n${w.segment}`;
        const seg = segments.get(key);
        if (seg === undefined) segments.set(key, { conversation: w.conversation, segment: w.segment, count: 1, first: w.seq, last: w.seq });
        else {
          seg.count++;
          seg.first = Math.min(seg.first, w.seq);
          seg.last = Math.max(seg.last, w.seq);
        }
      }
    }
    for (const [conversation, seq] of lastSeq) {
      const [a, b] = membersOf(conversation);
      this.stmt.setSeq.run(conversation, a, b, seq);
    }
    for (const seg of segments.values()) this.stmt.countSegment.run(seg.conversation, seg.segment, seg.count, seg.first, seg.last);
  }

  lastSeq(conversation: string): number {
    return this.stmt.lastSeq.get(conversation)?.last_seq ?? 0;
  }

  countMessagesAfter(conversation: string, from: string, seq: number): number {
    return this.stmt.countAfter.get(conversation, seq, from)?.n ?? 0;
  }

  peersOf(user: string): string[] {
    return this.stmt.peers.all(user, user, user).map((r) => r.peer);
  }

  segmentsOf(conversation: string): SegmentRow[] {
    return this.stmt.segmentsOf.all(conversation).map((r) => ({ segment: r.segment, count: r.count, firstSeq: r.first_seq, lastSeq: r.last_seq }));
  }

  messagesOf(conversation: string, r: { from: number; to: number; afterSeq: number; limit: number }): IndexedMessage[] {
    return this.stmt.messagesOf.all(conversation, r.afterSeq, r.from, r.to, r.limit).map((m) => ({ seq: m.seq, id: m.id, from: m.sender, ts: m.ts, segment: m.segment }));
  }
}
