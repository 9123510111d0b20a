/**
 * Decides who gets a push, when the hub reports messages durable or one
 * recalled: every device of the recipient that has a subscription and no open
 * inbox socket, unless the recipient muted the conversation. Decisions run one
 * at a time in the order the hub reports them, after the ack, and only queue:
 * sending is the queue's business.
 */
import type * as Y from 'yjs';
import { pushTopic, type Message, type ProfileEntry, type PushPayload } from '@parley/protocol';
import type { Log } from '../log.ts';
import { profileOf } from '../social/profiles.ts';
import type { Storage } from '../storage/storage.ts';
import type { ConversationEvent, HubObserver } from '../sync/events.ts';
import type { MuteMirror } from './mutes.ts';
import { fullPayload } from './payload.ts';
import type { NewPush, PushQueue } from './queue.ts';
import type { PushSubscriptions } from './subscriptions.ts';

export interface NotifierDeps {
  storage: Storage;
  subscriptions: PushSubscriptions;
  mutes: MuteMirror;
  queue: PushQueue;
  log: Log;
  /** The devices of `user` with an open inbox socket. */
  devicesOnline(user: string): readonly string[];
}

/** One message to announce. */
interface Announcement {
  kind: PushPayload['kind'];
  doc: string;
  message: Message;
  seq: number;
  /** The recipient's unread count, read only when a push is due (most recipients have no subscription). */
  unread: () => number;
}

export class PushNotifier implements HubObserver {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly deps: NotifierDeps) {}

  messagesCommitted(event: ConversationEvent): void {
    this.announce('message', event);
  }

  messageRecalled(event: ConversationEvent): void {
    // Pushes of the message not sent yet go, whoever they were for: none keeps its text.
    for (const { message } of event.stamped) this.deps.queue.forget(message.id);
    this.announce('recall', event);
  }

  prefsChanged(user: string, doc: Y.Doc): void {
    this.deps.mutes.changed(user, doc);
  }

  /** Settles once every decision reported so far is made (and its pushes handed to the queue). */
  idle(): Promise<void> {
    return this.tail;
  }

  private announce(kind: PushPayload['kind'], event: ConversationEvent): void {
    const announcements = event.stamped.map(({ message, seq }): Announcement => ({ kind, doc: event.doc, message, seq, unread: () => event.unreadOf(message.to) }));
    this.tail = this.tail.then(async () => {
      for (const a of announcements) {
        try {
          await this.decide(a);
        } catch (error) {
          this.deps.log.error({ err: error, msg: a.message.id }, 'push decision failed');
        }
      }
    });
  }

  private async decide({ kind, doc, message, seq, unread }: Announcement): Promise<void> {
    const { subscriptions: all, mutes, queue } = this.deps;
    const recipient = message.to;
    // The sender asked for no push (an app backend's PushFlag, or MsgLifeTime 0: online devices only).
    if (kind === 'message' && (message.push?.off === true || message.push?.ttl === 0)) return;
    // From memory for a recipient seen lately, with or without subscriptions: no storage read per message.
    const subscriptions = await all.of(recipient);
    if (subscriptions.length === 0) return;
    const online = this.deps.devicesOnline(recipient);
    const offline = subscriptions.filter((s) => !online.includes(s.device));
    if (offline.length === 0) return;
    if (await mutes.isMuted(recipient, message.from)) return;
    const sender = await this.senderOf(message);
    const payload = JSON.stringify(fullPayload(kind, { doc, message, seq, sender, unread: unread() }));
    const urgency = kind === 'message' ? 'high' : 'normal';
    const topic = pushTopic(message.from);
    queue.enqueue(offline.map((s): NewPush => ({ user: recipient, device: s.device, payload, urgency, topic })));
  }

  /** The sender as the server knows them: a message's own `profile` is whatever its sender's device wrote. */
  private async senderOf(message: Message): Promise<ProfileEntry> {
    const user = await this.deps.storage.getUser(message.from);
    if (user !== undefined) return profileOf(user);
    const { nickname, avatar } = message.profile;
    return avatar === undefined ? { id: message.from, nickname } : { id: message.from, nickname, avatar };
  }
}
