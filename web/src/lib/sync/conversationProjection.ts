/**
 * Conversation projection: keeps the read model in step with one segment
 * document of a conversation. Its messages (with their edits, replies,
 * reactions and recalls: extras.ts) and receipts go to the projector; its
 * actions to the `actions` table (actions.ts); its awareness says whether the
 * peer types to me, or shows this conversation (`here`) on some device.
 */
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { conversationId, inboxPath, prefsPath, segmentOf } from '@parley/protocol';
import { db, type MessageRow, type ReceiptRow } from '../db.ts';
import { observeActions } from './actions.ts';
import { observeBatches } from './batch.ts';
import type { Documents, Entry } from './docs.ts';
import { attachExtras } from './extras.ts';
import { receiptSeq } from './materialise.ts';
import { projectSegment } from './projector.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export interface ConversationContext {
  me: string;
  docs: Documents;
  /** The document's hold entry: the peer's highest sequence and the pending writes are kept there. */
  entry: Entry | undefined;
  /** Rows were written: receipts may move (receipts.ts). */
  written: (sd: SyncedDoc) => void;
  /** The peer types to me, or stopped, in this document's awareness. */
  typing: (peer: string, typing: boolean) => void;
  online?: ((peer: string, online: boolean) => void) | undefined;
  error: (e: unknown) => void;
}

export function attachConversation(
  doc: Y.Doc,
  provider: WebsocketProvider,
  sd: SyncedDoc,
  path: { a: string; b: string; segment: string },
  ctx: ConversationContext,
): () => void {
  const { me, docs, entry } = ctx;
  const peer = path.a === me ? path.b : path.a;
  const conv = conversationId(path.a, path.b);
  const messages = doc.getMap<unknown>('messages');
  const seqs = doc.getMap<unknown>('seq');
  const receipts = doc.getMap<unknown>('receipts');
  // Edits, reactions, replies and recalls: rows are built with them (extras.ts).
  // After a recall: the inbox's stored updates hold the old preview, the prefs document's the message's draft.
  const compactInbox = async (): Promise<void> => {
    await docs.get(inboxPath(me))?.synced.compact();
    await docs.get(prefsPath(me))?.synced.compact();
  };
  const extras = attachExtras(doc, { me, peer, segment: path.segment, synced: sd, compactInbox, error: ctx.error });

  const materialise = (ids: Set<string>, receiptKeys: Iterable<string>): Promise<unknown> => {
    const rows: MessageRow[] = [];
    let peerNickname: string | undefined;
    for (const id of ids) {
      const row = extras.rowOf(id);
      if (row === null) continue;
      rows.push(row);
      if (row.from === peer) peerNickname = row.nickname;
      if (entry !== undefined && row.from === peer && row.seq !== null && row.seq > entry.maxPeerSeq) entry.maxPeerSeq = row.seq;
    }
    const receiptRows: ReceiptRow[] = [];
    for (const key of receiptKeys) {
      const value = receipts.get(key);
      const seq = receiptSeq(value);
      const ts = (value as { ts?: unknown } | undefined)?.ts;
      if (seq !== null) receiptRows.push({ id: `${conv}|${key}`, conv, seq, ...(typeof ts === 'number' && Number.isFinite(ts) ? { ts } : {}) });
    }
    // A peer known only from their messages still gets a name in the list.
    const write = projectSegment(rows, receiptRows, peer, peerNickname)
      .then(() => ctx.written(sd))
      .catch(ctx.error);
    return write;
  };
  const detach = observeBatches(doc, [messages, seqs, receipts], (changed, initial) => {
    const ids = new Set([...(changed.get(messages) ?? []), ...(changed.get(seqs) ?? [])]);
    const receiptKeys = changed.get(receipts) ?? [];
    let write: Promise<unknown>;
    if (initial && ids.size > 0) {
      // Loaded from the store, whose updates were materialised as they came: only the messages the table
      // lacks (or holds from a push) are built and written again, so that opening a long segment does not
      // rewrite thousands of rows (lib/sync/segments.ts). The peer's highest sequence counts them all, for receipts.
      for (const id of ids) {
        const seq = seqs.get(id);
        const from = (messages.get(id) as { from?: unknown } | undefined)?.from;
        if (entry !== undefined && from === peer && typeof seq === 'number' && seq > entry.maxPeerSeq) entry.maxPeerSeq = seq;
      }
      write = storedIds(conv, ids, seqs)
        .then((stored) => materialise(new Set([...ids].filter((id) => !stored.has(id))), receiptKeys))
        .catch(ctx.error);
    } else {
      write = materialise(ids, receiptKeys);
    }
    if (entry !== undefined) entry.writes = entry.writes.then(() => write);
  });

  const awareness = provider.awareness;
  const current = path.segment === segmentOf(Date.now());
  const onAwareness = (): void => {
    let typing = false;
    let here = false;
    for (const [client, state] of awareness.getStates()) {
      if (client === doc.clientID) continue;
      const s = state as { user?: unknown; typing?: unknown; here?: unknown };
      if (s.user === peer && s.typing === me) typing = true;
      if (s.user === peer && s.here === me) here = true;
    }
    ctx.typing(peer, typing);
    // Only the current segment carries `here`: another segment's awareness says nothing about it.
    if (current) ctx.online?.(peer, here);
  };
  awareness.on('change', onAwareness);
  const detachActions = observeActions(doc, conv, ctx.error);
  return () => {
    detach();
    detachActions();
    extras.detach();
    awareness.off('change', onAwareness);
    if (current) ctx.online?.(peer, false);
  };
}

/** Of `ids` (stamped in `seqs`), those whose synced row the messages table holds: read by the `[conv+seq]` range they span. */
async function storedIds(conv: string, ids: Set<string>, seqs: Y.Map<unknown>): Promise<Set<string>> {
  let low = Infinity;
  let high = -Infinity;
  for (const id of ids) {
    const seq = seqs.get(id);
    if (typeof seq !== 'number') continue;
    if (seq < low) low = seq;
    if (seq > high) high = seq;
  }
  if (low > high) return new Set();
  const keys = await db.messages
    .where('[conv+seq]')
    .between([conv, low], [conv, high], true, true)
    .filter((m) => m.pushed !== true)
    .primaryKeys();
  return new Set(keys);
}
