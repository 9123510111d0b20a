/**
 * Receipts and read markers. Delivered: the highest sequence of the peer's
 * messages this device holds. Read: the same while the conversation is open
 * and visible, and at least the user's read marker in prefs (which a read on
 * another device, or on this one offline, moved); the marker is raised with
 * every read, offline too (lib/sync/prefs.ts merges markers, the furthest
 * wins), so that the user's other devices and the inbox's unread agree. A
 * receipt is written only when higher than the document holds, and only once
 * synced, so that a stale copy never writes backwards.
 */
import { inboxPath, parseDocPath, prefsPath, receiptKey } from '@parley/protocol';
import type { Documents } from './docs.ts';
import { receiptSeq } from './materialise.ts';
import { markRead } from './prefs.ts';
import type { SyncedDoc } from './syncedDoc.ts';

export interface ReceiptsContext {
  me: string;
  docs: Documents;
  /** The conversation on screen. */
  openPeer: () => string | null;
  visible: () => boolean;
  /** Whether read receipts flow with `peer` (both have them on: sync/peers.ts); delivered ones always do. */
  readReceipts: (peer: string) => boolean;
}

export class Receipts {
  readonly #ctx: ReceiptsContext;

  constructor(ctx: ReceiptsContext) {
    this.#ctx = ctx;
  }

  /** Writes a conversation segment's receipts (and raises the read marker) as far as this device got. */
  write(sd: SyncedDoc): void {
    const { me, docs } = this.#ctx;
    const entry = docs.get(sd.path);
    const path = parseDocPath(sd.path);
    if (entry === undefined || path?.kind !== 'conversation') return;
    const peer = path.a === me ? path.b : path.a;
    // Old history read for display changes no receipt: the newest segments carry them.
    if (entry.holds.size === 1 && entry.holds.has('history')) return;
    const seq = entry.maxPeerSeq;
    const reading = peer === this.#ctx.openPeer() && this.#ctx.visible();
    if (reading && seq > 0) this.#markRead(peer, seq);
    if (!sd.synced) return;
    // Someone this user blocks sees no new delivered or read state of theirs (the server refuses such a
    // receipt: docs/security.md, "Presence"); the read marker above stays this user's own. After an unblock,
    // the blocklist's change writes them again (inboxProjection.ts).
    if (this.#blocks(peer)) return;
    const marker = receiptSeq(docs.get(prefsPath(me))?.synced.doc.getMap<unknown>('read').get(peer)) ?? 0;
    const read = Math.max(reading ? seq : 0, marker);
    const receipts = sd.doc.getMap<unknown>('receipts');
    const raise = (key: string, value: number): void => {
      // With its time: the sender's message info shows when each message was delivered and read.
      if (value > 0 && (receiptSeq(receipts.get(key)) ?? 0) < value) receipts.set(key, { user: me, seq: value, ts: Date.now() });
    };
    // With read receipts off (either of us), none is written: the server would refuse it (docs/security.md, "Privacy settings").
    const reads = this.#ctx.readReceipts(peer);
    sd.doc.transact(() => {
      raise(receiptKey(me, 'delivered'), seq);
      if (reads) raise(receiptKey(me, 'read'), read);
    });
  }

  /** Every held document's receipts, again (the read marker moved, the page became visible, a block ended). */
  refresh(): void {
    for (const [, entry] of this.#ctx.docs.all()) this.write(entry.synced);
  }

  /** Whether this user blocks `peer` (the inbox's blocklist, which the server writes). */
  #blocks(peer: string): boolean {
    return this.#ctx.docs.get(inboxPath(this.#ctx.me))?.synced.doc.getMap<unknown>('blocklist').has(peer) === true;
  }

  #markRead(peer: string, seq: number): void {
    const prefs = this.#ctx.docs.get(prefsPath(this.#ctx.me))?.synced;
    if (prefs !== undefined) markRead(prefs.doc, peer, seq);
  }
}
