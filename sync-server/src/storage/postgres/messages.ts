/**
 * The message index in PostgreSQL: `msg_index`, `conversations` (each one's
 * last sequence) and `segments` (per conversation and month, the count and
 * sequence range of its messages), as in SQLite (sqlite/messages.ts). A
 * commit writes its share in one statement, however many messages it holds
 * (`RECORD`).
 */
import type pg from 'pg';
import type { Write } from '../stores/docs.ts';
import { membersOf, type IndexedMessage, type MessageIndex, type SegmentRow } from '../stores/messages.ts';
import type { PgCommitPart } from './docs.ts';

type MessageWrite = Extract<Write, { kind: 'message' }>;

/** Messages a commit adds to one segment of one conversation, and their sequence range. */
interface SegmentCount {
  conversation: string;
  segment: string;
  count: number;
  first: number;
  last: number;
}

/**
 * A commit's whole share in one statement: the index rows, the segments'
 * counts and the last sequences touch three tables and read none of each
 * other's rows, so they can be one statement's three parts (one round trip).
 */
const RECORD = `
WITH indexed AS (
  INSERT INTO msg_index (conversation, seq, id, sender, ts, segment)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[])
), counted AS (
  INSERT INTO segments (conversation, segment, count, first_seq, last_seq)
  SELECT * FROM unnest($7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[])
  ON CONFLICT (conversation, segment) DO UPDATE SET count = segments.count + excluded.count,
    first_seq = LEAST(segments.first_seq, excluded.first_seq), last_seq = GREATEST(segments.last_seq, excluded.last_seq)
)
INSERT INTO conversations (id, a, b, last_seq)
SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::bigint[])
ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq`;

export class PgMessages implements MessageIndex, PgCommitPart {
  constructor(private readonly pool: pg.Pool) {}

  async record(client: pg.PoolClient, writes: readonly Write[]): Promise<void> {
    const lastSeq = new Map<string, number>();
    const messages: MessageWrite[] = [];
    /** By `conversation\nsegment`. */
    const segments = new Map<string, SegmentCount>();
    for (const w of writes) {
      if (w.kind === 'last-seq') lastSeq.set(w.conversation, w.seq);
      else if (w.kind === 'message') {
        messages.push(w);
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
    if (messages.length === 0 && lastSeq.size === 0) return;
    const segs = [...segments.values()];
    const conversations = [...lastSeq.keys()];
    const members = conversations.map(membersOf);
    await client.query(RECORD, [
      messages.map((m) => m.conversation),
      messages.map((m) => m.seq),
      messages.map((m) => m.id),
      messages.map((m) => m.from),
      messages.map((m) => m.ts),
      messages.map((m) => m.segment),
      segs.map((g) => g.conversation),
      segs.map((g) => g.segment),
      segs.map((g) => g.count),
      segs.map((g) => g.first),
      segs.map((g) => g.last),
      conversations,
      members.map(([a]) => a),
      members.map(([, b]) => b),
      [...lastSeq.values()],
    ]);
  }

  async lastSeq(conversation: string): Promise<number> {
    const { rows } = await this.pool.query<{ last_seq: number }>('SELECT last_seq FROM conversations WHERE id = $1', [conversation]);
    return rows[0]?.last_seq ?? 0;
  }

  async countMessagesAfter(conversation: string, from: string, seq: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM msg_index WHERE conversation = $1 AND seq > $2 AND sender = $3', [
      conversation,
      seq,
      from,
    ]);
    return rows[0]?.n ?? 0;
  }

  async peersOf(user: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ peer: string }>('SELECT CASE WHEN a = $1 THEN b ELSE a END AS peer FROM conversations WHERE a = $1 OR b = $1', [user]);
    return rows.map((r) => r.peer);
  }

  async segmentsOf(conversation: string): Promise<SegmentRow[]> {
    const { rows } = await this.pool.query<{ segment: string; count: number; first_seq: number; last_seq: number }>(
      'SELECT segment, count, first_seq, last_seq FROM segments WHERE conversation = $1 ORDER BY segment COLLATE "C"',
      [conversation],
    );
    return rows.map((r) => ({ segment: r.segment, count: r.count, firstSeq: r.first_seq, lastSeq: r.last_seq }));
  }

  async messagesOf(conversation: string, r: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]> {
    const { rows } = await this.pool.query<{ seq: number; id: string; sender: string; ts: number; segment: string }>(
      'SELECT seq, id, sender, ts, segment FROM msg_index WHERE conversation = $1 AND seq > $2 AND ts >= $3 AND ts <= $4 ORDER BY seq LIMIT $5',
      [conversation, r.afterSeq, r.from, r.to, r.limit],
    );
    return rows.map((m) => ({ seq: m.seq, id: m.id, from: m.sender, ts: m.ts, segment: m.segment }));
  }
}
