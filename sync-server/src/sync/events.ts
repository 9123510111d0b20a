/**
 * What the sync core tells others after the fact (observers: the push
 * module), and the writes others add to every accepted message (media
 * references, after-send callbacks). Shared by every path that writes messages: the accept path,
 * server sends, imports and recalls.
 */
import type * as Y from 'yjs';
import type { Message, Verdict } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { Write } from '../storage/storage.ts';
import { totalUnread, type Stamped } from './inbox.ts';
import type { LiveDoc } from './live-doc.ts';

/** A message about to be written, as the hooks of `alsoWrite` see it. */
export interface WrittenMessage {
  message: Message;
  /** The conversation (`a/b`). */
  conversation: string;
  /** The sequence stamped on it. */
  seq: number;
  /** Imported history (admin import), not a message sent now: the hosted service sends no after-send callback for it. */
  imported: boolean;
}

/**
 * Writes that join an accepted message's own transaction (media references,
 * after-send callbacks), so they are exactly as durable as the message:
 * called synchronously for each message, client writes, server sends and
 * imports alike; cheap, and never throws.
 */
export type MessageWrites = (written: WrittenMessage) => readonly Write[];

/**
 * What the accept path tells others (the push module), after the fact: an
 * observer is called synchronously, must not throw, and never delays an ack.
 */
export interface HubObserver {
  /** Messages of one conversation document are durable: stamped, stored and counted in the inboxes (client writes and server sends alike). */
  messagesCommitted?(event: ConversationEvent): void;
  /** A message was recalled (its content erased) and the recall is durable. */
  messageRecalled?(event: ConversationEvent & { by: string }): void;
  /** The owner's write to their prefs document was applied (`doc` is the server's copy). */
  prefsChanged?(user: string, doc: Y.Doc, verdict: Extract<Verdict, { ok: true }>): void;
}

export interface ConversationEvent {
  /** The conversation document (segment). */
  doc: string;
  /** The messages concerned, with their sequences. */
  stamped: readonly Stamped[];
  /** A member's unread count over all their conversations, as their inbox holds it when called (0 once the conversation is unloaded). */
  unreadOf(user: string): number;
}

/** The observers and the extra writes per message, registered at start (index.ts). */
export class HubEvents {
  private readonly observers: HubObserver[] = [];
  private readonly messageWrites: MessageWrites[] = [];

  constructor(private readonly log: Log) {}

  observe(observer: HubObserver): void {
    this.observers.push(observer);
  }

  /** Adds `writes` to the transaction of every message accepted from now on. */
  alsoWrite(writes: MessageWrites): void {
    this.messageWrites.push(writes);
  }

  writesFor(written: WrittenMessage): Write[] {
    return this.messageWrites.flatMap((writes) => writes(written));
  }

  tell(call: (observer: HubObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch (error) {
        this.log.error({ err: error }, 'hub observer failed');
      }
    }
  }
}

/** An event about a loaded conversation document; its members' inboxes are loaded with it. */
export function conversationEvent(live: LiveDoc, stamped: readonly Stamped[]): ConversationEvent {
  return {
    doc: live.path,
    stamped,
    unreadOf: (user) => {
      const inbox = live.dependencies.find((d) => d.parsed.kind === 'inbox' && d.parsed.user === user);
      return inbox === undefined || inbox.destroyed ? 0 : totalUnread(inbox.doc);
    },
  };
}
