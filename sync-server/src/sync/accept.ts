/**
 * The accept path: every client update is judged and, if accepted, applied,
 * stamped and queued in the group commit, synchronously from validation to
 * queueing, so updates are judged against, and stamped in, acceptance order:
 *
 *   validateUpdate (the only decode of the update) → apply its decoded
 *   structs (one transaction), then the server's writes on it (claim client
 *   ids, stamp seq; a second one)
 *   → queued in the group commit; both inboxes are updated once per batch,
 *     in the same transaction (inbox-projection.ts)
 *   → after commit: broadcast (the sender gets only the server's part),
 *     then `ack` the sender, then the observers hear of it (push).
 *   → a failed commit: the writer gets `reject` with the storage's code
 *     (hub.ts drops what depended on it).
 */
import * as Y from 'yjs';
import {
  conversationId,
  decide,
  errorMessage,
  type Decision,
  type DecodedUpdate,
  type Message,
  SERVER_ROOTS,
  validateUpdate,
  type ErrorCode,
  type Verdict,
} from '@parley/protocol';
import type { Log } from '../log.ts';
import { StorageFaultError } from '../storage/health.ts';
import { FencedError, type Write } from '../storage/storage.ts';
import type { Relations } from '../social/relations.ts';
import type { SettingsStore } from '../social/settings.ts';
import type { AcceptChecks } from './accept-checks.ts';
import type { UpdateSink, Writer } from './connection.ts';
import { conversationEvent, type HubEvents } from './events.ts';
import type { Stamped } from './inbox.ts';
import type { InboxProjection } from './inbox-projection.ts';
import { ApplyFailedError, type LiveDoc } from './live-doc.ts';
import type { LoadedConversations } from './loaded.ts';
import { eraseContent, type Recalled, type Recalls } from './recall.ts';

type UpdateMeta = DecodedUpdate['meta'];

/** The accept path's limits, resolved from HubOptions (hub.ts says what each is). */
export interface AcceptLimits {
  recallWindowMs: number;
  maxMarkedMessages: number;
  tsWindow: { maxSkewMs: number; maxAgeMs: number };
}

/**
 * What the before-send gate (send-gate.ts) learnt of an update's messages
 * from the app's backend: `drop`, acknowledge it and keep nothing;
 * `rewrites`, the messages, by id, to store in place of what was written.
 */
export interface Told {
  drop?: true;
  rewrites?: ReadonlyMap<string, Message>;
}

/** The collaborators the accept path asks: facts in memory, and where accepted writes go on to. */
export interface AcceptParts {
  log: Log;
  settings: SettingsStore;
  relations: Relations;
  checks: AcceptChecks;
  loaded: LoadedConversations;
  inboxes: InboxProjection;
  recalls: Recalls;
  events: HubEvents;
}

export class AcceptPath implements UpdateSink {
  private readonly log: Log;

  constructor(
    private readonly parts: AcceptParts,
    private readonly limits: AcceptLimits,
  ) {
    this.log = parts.log;
  }

  /**
   * Validator step 4 for one message, from facts in memory: the settings and
   * both members' relations (loaded with the conversation).
   */
  permit(from: string, to: string, asAdmin: boolean): Decision | 'account-deleted' {
    // A deleted account's tombstone takes nothing new: its peers' documents stay open only to show what was recalled.
    if (this.parts.loaded.isDeleted(to) || this.parts.loaded.isDeleted(from)) return 'account-deleted';
    const settings = this.parts.settings.get();
    const sender = this.parts.relations.peek(from);
    const recipient = this.parts.relations.peek(to);
    return decide({
      messaging: settings.messaging,
      blocklistMode: settings.blocklistMode,
      senderHasRecipient: sender?.friends.has(to) ?? false,
      recipientHasSender: recipient?.friends.has(from) ?? false,
      blocked: recipient?.blocked.has(from) ?? false,
      asAdmin,
    });
  }

  /**
   * The new messages an update would write if it were accepted now: none
   * when it would be refused (over the budget, or by the validator), which
   * `submit` then says. Refuses and changes nothing.
   */
  newMessages(live: LiveDoc, user: string, update: Uint8Array): Message[] {
    if (!this.parts.checks.fits(update)) return [];
    const verdict = this.validate(live, user, update);
    return verdict.ok ? verdict.messages : [];
  }

  /** The sequence the next message of a conversation would be stamped with now (0 for another document). */
  nextSeq(live: LiveDoc): number {
    const path = live.parsed;
    return path.kind === 'conversation' ? (this.parts.loaded.lastSeq.get(conversationId(path.a, path.b)) ?? 0) + 1 : 0;
  }

  private validate(live: LiveDoc, user: string, update: Uint8Array): Verdict {
    return validateUpdate(update, { user, path: live.parsed, doc: live.doc, now: Date.now(), recallWindowMs: this.limits.recallWindowMs, maxMarkedMessages: this.limits.maxMarkedMessages, tsWindow: this.limits.tsWindow });
  }

  /**
   * Judges a client's update and, if it is accepted, applies, stamps and
   * queues it; answers the writer with `ack` after its commit, or `reject`.
   * `told`: the app backend's verdict on its messages (send-gate.ts).
   */
  submit(live: LiveDoc, connection: Writer, update: Uint8Array, told: Told = {}): void {
    const { user } = connection;
    if (!this.parts.checks.withinBudget(live, connection, update)) return;
    const verdict = this.validate(live, user, update);
    if (!verdict.ok) {
      this.log.info({ doc: live.path, user, code: verdict.code, detail: verdict.detail }, 'update rejected');
      connection.sendControl({ type: 'reject', code: verdict.code, message: `${errorMessage(verdict.code)} (${verdict.detail})`, msgIds: verdict.msgIds });
      return;
    }
    if (verdict.empty) return;
    if (this.parts.checks.refusedForStorage(live, connection, verdict.messages)) return;
    if (this.parts.checks.refuseWithheldReceipts(live, connection, verdict)) return;
    if (this.parts.checks.refusedForSpace(live, connection, verdict.messages)) return;
    if (!this.parts.checks.withinRate(live, connection, verdict)) return;

    const meta = verdict.decoded.meta;
    const position = ackPosition(meta, live.doc);
    for (const message of verdict.messages) {
      const decision = this.permit(message.from, message.to, false);
      if (decision === 'ok') continue;
      const msgIds = verdict.messages.map((m) => m.id);
      if (decision === 'silent-drop') {
        // The sender is told it was sent; nothing of the update is applied, stored or delivered.
        this.log.info({ doc: live.path, user, msgIds }, 'update silently dropped (blocked sender)');
        connection.sendControl({ type: 'ack', client: position.client, clock: position.clock, msgIds });
        this.parts.inboxes.previewForSender(live, user, verdict.messages);
        return;
      }
      this.log.info({ doc: live.path, user, code: decision }, 'update rejected');
      connection.sendControl({ type: 'reject', code: decision, message: errorMessage(decision), msgIds });
      return;
    }
    if (told.drop === true && verdict.messages.length > 0) {
      // As to a blocker: the sender is told it was sent; nothing is applied, stored or delivered.
      const msgIds = verdict.messages.map((m) => m.id);
      this.log.info({ doc: live.path, user, msgIds }, 'update dropped by the app backend');
      connection.sendControl({ type: 'ack', client: position.client, clock: position.clock, msgIds });
      this.parts.inboxes.previewForSender(live, user, verdict.messages);
      return;
    }
    // What is stored, delivered and told: each message as the backend rewrote it, if it did.
    const rewritten = verdict.messages.flatMap((m) => {
      const r = told.rewrites?.get(m.id);
      return r === undefined ? [] : [r];
    });
    const messages = verdict.messages.map((m) => told.rewrites?.get(m.id) ?? m);
    // A rewrite erases what the client wrote: the update is encoded afresh from the document, without it.
    const exact = rewritten.length > 0 ? null : exactClients(meta, live.doc);
    const path = live.parsed;
    // The recalled messages as they are before the update deletes their content.
    const recalled: Recalled[] = [];
    for (const r of verdict.recalls) {
      const message = live.doc.getMap<Message>('messages').get(r.msg);
      if (message !== undefined) recalled.push({ message, seq: live.doc.getMap<number>(SERVER_ROOTS.seq).get(r.msg) ?? 0, by: r.by });
    }
    const stamped: Stamped[] = [];
    const extra: Write[] = [];
    let conversation: string | undefined;
    if (path.kind === 'conversation' && messages.length > 0) {
      conversation = conversationId(path.a, path.b);
      let last = this.parts.loaded.lastSeq.get(conversation) ?? 0;
      for (const message of messages) {
        stamped.push({ message, seq: ++last });
        extra.push({ kind: 'message', conversation, seq: last, id: message.id, from: message.from, ts: message.ts, segment: path.segment });
        extra.push(...this.parts.events.writesFor({ message, conversation, seq: last, imported: false }));
      }
      extra.push({ kind: 'last-seq', conversation, seq: last });
    }

    const msgIds = verdict.messages.map((m) => m.id);
    let committed: Promise<void>;
    try {
      committed = live.accept(
        connection,
        verdict.decoded,
        () => {
          const clients = live.doc.getMap(SERVER_ROOTS.clients);
          for (const id of verdict.newClients) clients.set(String(id), { user });
          const seq = live.doc.getMap<number>(SERVER_ROOTS.seq);
          for (const s of stamped) seq.set(s.message.id, s.seq);
          const stored = live.doc.getMap<Message>('messages');
          for (const m of rewritten) stored.set(m.id, m);
          // A recall's own update deletes the content; whatever it left, the server deletes.
          for (const r of recalled) eraseContent(live.doc, r.message.id);
        },
        extra,
        verdict.newClients,
        exact,
        rewritten.length > 0,
      );
    } catch (error) {
      // Nothing was stamped or queued (and a half-applied document was dropped: see LiveDoc.accept).
      const code = refusalCodeOf(error);
      if (!(error instanceof ApplyFailedError || error instanceof StorageFaultError)) this.log.error({ err: error, doc: live.path, user }, 'update could not be accepted');
      connection.sendControl({ type: 'reject', code, message: errorMessage(code), msgIds });
      return;
    }
    if (path.kind === 'prefs') this.parts.events.tell((o) => o.prefsChanged?.(user, live.doc, verdict));
    if (conversation !== undefined && path.kind === 'conversation') {
      this.parts.loaded.lastSeq.set(conversation, stamped.at(-1)?.seq ?? 0);
      // Recorded in both inboxes when this group commit's batch is taken, so in
      // the same transaction as the messages themselves (see InboxProjection.flush).
      const now = Date.now();
      for (const inbox of live.dependencies) {
        const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
        this.parts.inboxes.note(inbox, owner === path.a ? path.b : path.a, path.segment, stamped, now);
      }
    }

    committed.then(
      () => {
        connection.sendControl({ type: 'ack', client: position.client, clock: position.clock, msgIds });
        if (stamped.length > 0) this.parts.events.tell((o) => o.messagesCommitted?.(conversationEvent(live, stamped)));
        if (recalled.length > 0) {
          this.parts.recalls.afterRecall(live.path, recalled).catch((error: unknown) => this.log.error({ err: error, doc: live.path }, 'recall erasure failed'));
        }
        if (path.kind === 'conversation') {
          for (const r of verdict.receipts) {
            if (r.kind === 'read') void this.parts.inboxes.refreshUnread(path.a === user ? path.b : path.a, user, r.seq);
          }
        }
      },
      (error: unknown) => {
        if (error instanceof FencedError) {
          // Another process leads the document now: nothing was stored, and the writer is not refused. Its socket here
          // closes with doc-moved (a follower's, when its sweep sees the new leader), and its client sends it again.
          this.log.info({ doc: live.path, user, msgIds }, 'update not stored: another process leads the document now');
          return;
        }
        // The document was dropped already (LiveDoc), with its connections: this refusal is the last frame this one sends.
        const code = refusalCodeOf(error);
        this.log.info({ doc: live.path, user, code, msgIds }, 'update refused: its commit failed');
        connection.sendControl({ type: 'reject', code, message: errorMessage(code), msgIds });
      },
    );
  }
}

/** The code a writer is refused with when its write could not be accepted or committed. */
function refusalCodeOf(error: unknown): ErrorCode {
  return error instanceof StorageFaultError ? error.code : 'internal';
}

/**
 * What an `ack` names: the client id whose new structs the update carries and
 * the clock after them (the next clock the server expects from that client).
 */
function ackPosition({ to }: UpdateMeta, doc: Y.Doc): { client: number; clock: number } {
  for (const [client, clock] of to) {
    if (clock > Y.getState(doc.store, client)) return { client, clock };
  }
  return { client: 0, clock: 0 };
}

/**
 * The client ids of an update that holds nothing the server already has,
 * with its sections in Yjs's own order (highest client id first): such an
 * update is exactly what applying it adds, so it can be stored and relayed as
 * it came, without encoding it again. Null otherwise (re-sent structs).
 */
function exactClients({ from }: UpdateMeta, doc: Y.Doc): number[] | null {
  const clients = [...from.keys()];
  for (let i = 0; i < clients.length; i++) {
    const client = clients[i] ?? 0;
    if (from.get(client) !== Y.getState(doc.store, client)) return null;
    if (i > 0 && client > (clients[i - 1] ?? 0)) return null;
  }
  return clients;
}
