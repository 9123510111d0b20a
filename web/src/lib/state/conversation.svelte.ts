/**
 * One conversation on screen: its newest messages in display order (the
 * server's sequence, my unsent ones last), each with its state, and the peer's
 * profile. Reads Dexie only; the hub keeps the tables current.
 */
import { Dexie } from 'dexie';
import { conversationId, type Element, type ErrorCode, type MessageType } from '@parley/protocol';
import { db } from '../db.ts';
import { messageState, type MessageState } from '../messageState.ts';
import { report } from '../services/errors.ts';
import { Live } from './live.svelte.ts';

export interface MessageView {
  id: string;
  from: string;
  /** What the message holds, element by element. */
  body: Element[];
  /** The body in words (and the whole of a message whose body did not parse). */
  text: string;
  ts: number;
  seq: number | null;
  mine: boolean;
  /** Only my messages have a state. */
  state: MessageState | null;
  code?: ErrorCode | undefined;
  /** `system`: a notice from the server, shown centred without a bubble. */
  type: MessageType;
  title?: string | undefined;
  /** A media message of mine whose bytes are still uploading (pending) or failed to. */
  uploading: boolean;
  /** The device's own copy of media not yet acknowledged, by hash: shown without the network. */
  local?: ReadonlyMap<string, Blob> | undefined;
}

interface Snapshot {
  messages: MessageView[];
  name: string;
  avatar?: string | undefined;
  /** More history exists beyond the window. */
  more: boolean;
  /** The user's read marker in this conversation (prefs). */
  readSeq: number;
}

/** Messages shown at first; scrolling up shows more. */
const PAGE = 100;

export class ConversationState {
  readonly peer: string;
  readonly me: string;
  limit = $state(PAGE);
  readonly #live: Live<Snapshot>;
  /** The last snapshot shown, so that a longer window starts from it rather than from empty. */
  #last: Snapshot;

  constructor(me: string, peer: string) {
    this.me = me;
    this.peer = peer;
    const conv = conversationId(me, peer);
    this.#last = { messages: [], name: peer, more: false, readSeq: 0 };
    this.#live = $derived.by(() => {
      const limit = this.limit;
      const initial = this.#last;
      return new Live<Snapshot>(
        async () => {
          const [rows, outbox, receipts, profile, read] = await Promise.all([
            db.messages.where('[conv+order]').between([conv, Dexie.minKey], [conv, Dexie.maxKey]).reverse().limit(limit + 1).toArray(),
            db.outbox.where('conv').equals(conv).toArray(),
            db.receipts.where('conv').equals(conv).toArray(),
            db.profiles.get(peer),
            db.reads.get(peer),
          ]);
          const outboxOf = new Map(outbox.map((o) => [o.id, o]));
          const blobs = outbox.length === 0 ? [] : await db.blobs.where('msg').anyOf(outbox.map((o) => o.id)).toArray();
          const localOf = new Map<string, Map<string, Blob>>();
          for (const b of blobs) {
            let local = localOf.get(b.msg);
            if (local === undefined) localOf.set(b.msg, (local = new Map<string, Blob>()));
            local.set(b.hash, b.blob);
          }
          const receipt = (kind: string): number => receipts.find((r) => r.id === `${conv}|${peer}|${kind}`)?.seq ?? 0;
          const peerDelivered = receipt('delivered');
          const peerRead = receipt('read');
          const more = rows.length > limit;
          const messages = rows
            .slice(0, limit)
            .reverse()
            .map((row): MessageView => {
              const entry = outboxOf.get(row.id);
              // What this device wrote is its own, even a (refused) message naming another author.
              const system = row.type === 'system';
              const mine = !system && (row.from === me || entry !== undefined);
              return {
                id: row.id,
                from: row.from,
                body: row.body,
                text: row.text,
                ts: row.ts,
                seq: row.seq,
                mine,
                state: mine ? messageState({ seq: row.seq, outbox: entry, peerDelivered, peerRead }) : null,
                code: entry?.code,
                type: row.type,
                title: row.title,
                uploading: entry?.uploads === 'pending',
                local: localOf.get(row.id),
              };
            });
          return { messages, name: profile?.nickname || peer, avatar: profile?.avatar, more, readSeq: read?.seq ?? 0 };
        },
        initial,
        report,
      );
    });
  }

  get #snapshot(): Snapshot {
    const snapshot = this.#live.current;
    this.#last = snapshot;
    return snapshot;
  }

  get messages(): MessageView[] {
    return this.#snapshot.messages;
  }

  get name(): string {
    return this.#snapshot.name;
  }

  get avatar(): string | undefined {
    return this.#snapshot.avatar;
  }

  get more(): boolean {
    return this.#snapshot.more;
  }

  get readSeq(): number {
    return this.#snapshot.readSeq;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }

  showMore(): void {
    this.limit += PAGE;
  }
}
