/**
 * The message index: one small row per accepted message and the last
 * sequence of each conversation, written by `DocStore.commit` with the
 * message itself, so counting and paging never load a document.
 */

/** One segment of a conversation in the message index. */
export interface SegmentRow {
  segment: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export interface IndexedMessage {
  seq: number;
  id: string;
  from: string;
  ts: number;
  segment: string;
}

export interface MessageIndex {
  lastSeq(conversation: string): Promise<number>;
  /** Messages in a conversation written by `from` with a sequence above `seq`. */
  countMessagesAfter(conversation: string, from: string, seq: number): Promise<number>;
  /** The peers `user` has a conversation with. */
  peersOf(user: string): Promise<string[]>;
  /** The month segments of a conversation that hold messages, oldest first (kept per segment as messages are indexed: no scan). */
  segmentsOf(conversation: string): Promise<SegmentRow[]>;
  /** The accepted messages of a conversation with `ts` in [from, to], by sequence after `afterSeq`, at most `limit`. */
  messagesOf(conversation: string, range: { from: number; to: number; afterSeq: number; limit: number }): Promise<IndexedMessage[]>;
}

/** The members of a conversation id `a/b`. */
export function membersOf(conversation: string): [string, string] {
  const [a = '', b = ''] = conversation.split('/');
  return [a, b];
}
