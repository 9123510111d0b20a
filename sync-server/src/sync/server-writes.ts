/**
 * Messages the server writes itself (admin API: send as a user, system
 * notices, imported history): stamped in acceptance order with the client
 * writes, stored, and projected into the inboxes as theirs are.
 */
import { conversationId, conversationPath, segmentOf, SERVER_ROOTS, type Message } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Write } from '../storage/storage.ts';
import { conversationEvent, type HubEvents } from './events.ts';
import { recordMessages, setProfile, type Stamped } from './inbox.ts';
import type { InboxProjection } from './inbox-projection.ts';
import type { LiveDoc } from './live-doc.ts';
import type { LoadedConversations } from './loaded.ts';
import type { DocRegistry } from './registry.ts';

export class ServerWrites {
  constructor(
    private readonly registry: DocRegistry,
    private readonly commit: GroupCommit,
    private readonly loaded: LoadedConversations,
    private readonly inboxes: InboxProjection,
    private readonly events: HubEvents,
  ) {}

  /**
   * Writes a message as the server (admin API: send as a user, system
   * notices): stamped, stored, broadcast and counted in the inboxes exactly as
   * a client's. No friend or blocklist check (the admin bypasses them).
   * `syncToSender: false` leaves the sender's inbox untouched.
   */
  async serverSend(message: Message, syncToSender = true): Promise<number> {
    const live = await this.registry.acquire(conversationPath(message.from, message.to, segmentOf(message.ts)));
    try {
      const path = live.parsed;
      if (path.kind !== 'conversation') throw new Error('not a conversation');
      if (live.doc.getMap('messages').has(message.id) || live.doc.getMap(SERVER_ROOTS.seq).has(message.id)) throw new Refusal('duplicate-id');
      this.assertWritable();
      const conversation = conversationId(path.a, path.b);
      // From here to queueing the write nothing awaits, so the sequence is taken in acceptance order.
      const seq = (this.loaded.lastSeq.get(conversation) ?? 0) + 1;
      this.loaded.lastSeq.set(conversation, seq);
      const done = live.write(
        () => {
          live.doc.getMap('messages').set(message.id, message);
          live.doc.getMap<number>(SERVER_ROOTS.seq).set(message.id, seq);
        },
        [
          { kind: 'message', conversation, seq, id: message.id, from: message.from, ts: message.ts, segment: path.segment },
          { kind: 'last-seq', conversation, seq },
          ...this.events.writesFor({ message, conversation, seq, imported: false }),
        ],
      );
      const now = Date.now();
      for (const inbox of live.dependencies) {
        const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
        if (owner === message.from && !syncToSender) continue;
        this.inboxes.note(inbox, owner === path.a ? path.b : path.a, path.segment, [{ message, seq }], now);
      }
      await done;
      this.events.tell((o) => o.messagesCommitted?.(conversationEvent(live, [{ message, seq }])));
      return seq;
    } finally {
      this.registry.release(live);
    }
  }

  /** For the server's own writes (admin sends, imports): refused with the storage's code while it is in fault, before a sequence is taken. */
  private assertWritable(): void {
    const refused = this.commit.refusing();
    if (refused !== null) throw new Refusal(refused.code, 'a write to storage failed; writes resume by themselves once it commits again (GET /api/v1/ready)');
  }

  /**
   * Imports history (admin): each message keeps its id and time and lands in
   * its month's segment; per conversation the messages are sequenced in time
   * order after the ones it holds, and an id its segment holds already is
   * skipped. One write (one log row) per segment document touched. `live`:
   * counted as unread and pushed like a new message; otherwise history, which
   * only moves the inboxes' `last`.
   */
  async importMessages(messages: readonly Message[], live: boolean): Promise<{ imported: number; duplicates: number }> {
    const byPair = new Map<string, Message[]>();
    for (const m of messages) {
      const pair = conversationId(m.from, m.to);
      const list = byPair.get(pair) ?? [];
      list.push(m);
      byPair.set(pair, list);
    }
    let imported = 0;
    let duplicates = 0;
    for (const list of byPair.values()) {
      const r = await this.importPair(list, live);
      imported += r.imported;
      duplicates += r.duplicates;
    }
    return { imported, duplicates };
  }

  private async importPair(list: readonly Message[], live: boolean): Promise<{ imported: number; duplicates: number }> {
    const sorted = [...list].sort((p, q) => p.ts - q.ts);
    const first = sorted[0];
    if (first === undefined) return { imported: 0, duplicates: 0 };
    const docs = new Map<string, LiveDoc>();
    try {
      for (const segment of new Set(sorted.map((m) => segmentOf(m.ts)))) docs.set(segment, await this.registry.acquire(conversationPath(first.from, first.to, segment)));
      // From here to queueing the writes nothing awaits, so the sequences are taken in acceptance order.
      const conversation = conversationId(first.from, first.to);
      let seq = this.loaded.lastSeq.get(conversation) ?? 0;
      const seen = new Set<string>();
      const bySegment = new Map<string, Stamped[]>();
      let duplicates = 0;
      for (const message of sorted) {
        const segment = segmentOf(message.ts);
        const doc = docs.get(segment)?.doc;
        if (doc === undefined) throw new Error('segment not loaded');
        if (seen.has(message.id) || doc.getMap('messages').has(message.id) || doc.getMap(SERVER_ROOTS.seq).has(message.id)) {
          duplicates++;
          continue;
        }
        seen.add(message.id);
        const stamped = bySegment.get(segment) ?? [];
        stamped.push({ message, seq: ++seq });
        bySegment.set(segment, stamped);
      }
      if (seen.size === 0) return { imported: 0, duplicates };
      this.assertWritable();
      this.loaded.lastSeq.set(conversation, seq);
      const done: Promise<void>[] = [];
      let anyDoc: LiveDoc | undefined;
      for (const [segment, stamped] of bySegment) {
        const target = docs.get(segment);
        if (target === undefined) continue;
        anyDoc = target;
        const writes: Write[] = [];
        for (const s of stamped) {
          writes.push({ kind: 'message', conversation, seq: s.seq, id: s.message.id, from: s.message.from, ts: s.message.ts, segment });
          writes.push(...this.events.writesFor({ message: s.message, conversation, seq: s.seq, imported: true }));
        }
        writes.push({ kind: 'last-seq', conversation, seq: stamped.at(-1)?.seq ?? 0 });
        done.push(
          target.write(() => {
            const messagesMap = target.doc.getMap('messages');
            const seqMap = target.doc.getMap<number>(SERVER_ROOTS.seq);
            for (const s of stamped) {
              messagesMap.set(s.message.id, s.message);
              seqMap.set(s.message.id, s.seq);
            }
          }, writes),
        );
      }
      const all = [...bySegment.values()].flat().sort((p, q) => p.seq - q.seq);
      const newest = all.at(-1);
      const newestSegment = [...bySegment.keys()].sort().at(-1) ?? '';
      const now = Date.now();
      if (anyDoc !== undefined && newest !== undefined) {
        const path = anyDoc.parsed;
        for (const inbox of anyDoc.dependencies) {
          const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
          const peer = path.kind === 'conversation' && owner === path.a ? path.b : path.kind === 'conversation' ? path.a : '';
          if (live) this.inboxes.note(inbox, peer, newestSegment, all, now);
          else {
            done.push(
              inbox.write(() => {
                recordMessages(inbox.doc, peer, newestSegment, [newest], seq, now, false);
                const profile = this.loaded.profiles.get(peer);
                if (profile !== undefined) setProfile(inbox.doc, profile);
              }),
            );
          }
        }
      }
      await Promise.all(done);
      if (live) {
        for (const [segment, stamped] of bySegment) {
          const target = docs.get(segment);
          if (target !== undefined) this.events.tell((o) => o.messagesCommitted?.(conversationEvent(target, stamped)));
        }
      }
      return { imported: seen.size, duplicates };
    } finally {
      for (const doc of docs.values()) this.registry.release(doc);
    }
  }
}
