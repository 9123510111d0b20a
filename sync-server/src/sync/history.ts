/**
 * History and segment queries (admin export, the history API, recall's
 * lookup): read from the message index, with bodies from the documents.
 * Each waits for the group commit to drain, so it sees every accepted message.
 */
import { conversationId, conversationPath, type Message } from '@parley/protocol';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { IndexedMessage, Storage } from '../storage/storage.ts';
import type { DocRegistry } from './registry.ts';

/** A message of an exported history page; `message` is null once recalled. */
export interface ExportedMessage extends IndexedMessage {
  recalled: { by: string; ts: number } | null;
  message: Message | null;
}

export class History {
  constructor(
    private readonly storage: Storage,
    private readonly registry: DocRegistry,
    private readonly commit: GroupCommit,
  ) {}

  /** The month segments of the pair's conversation that hold messages, oldest first (from the index; no document is loaded). */
  async segments(x: string, y: string): Promise<{ segment: string; count: number; firstSeq: number; lastSeq: number }[]> {
    await this.commit.idle();
    return this.storage.segmentsOf(conversationId(x, y));
  }

  /** A pair's history in acceptance order, paged by time range and sequence cursor (msg_index + the documents). */
  async page(
    x: string,
    y: string,
    range: { from: number; to: number; cursor: number; limit: number },
    withBodies = true,
  ): Promise<ExportedMessage[]> {
    await this.commit.idle();
    const rows = await this.storage.messagesOf(conversationId(x, y), { from: range.from, to: range.to, afterSeq: range.cursor, limit: range.limit });
    if (!withBodies) return rows.map((r) => ({ ...r, recalled: null, message: null }));
    const out: ExportedMessage[] = [];
    for (const segment of new Set(rows.map((r) => r.segment))) {
      const live = await this.registry.acquire(conversationPath(x, y, segment));
      try {
        const messages = live.doc.getMap<Message>('messages');
        const recalls = live.doc.getMap<{ by: string; ts: number }>('recalls');
        for (const r of rows) {
          if (r.segment === segment) out.push({ ...r, recalled: recalls.get(r.id) ?? null, message: messages.get(r.id) ?? null });
        }
      } finally {
        this.registry.release(live);
      }
    }
    return out.sort((p, q) => p.seq - q.seq);
  }
}
