/**
 * The sync core: opens connections to documents, and accepts or rejects every
 * client update. The accept path is synchronous from validation to queueing
 * the commit, so updates are judged against, and stamped in, acceptance order:
 *
 *   validateUpdate (the one decode) → apply its decoded structs (one transaction), then the server's
 *   writes on it (claim client ids, stamp seq; a second one)
 *   → queued in the group commit; both inboxes are updated once per batch,
 *     in the same transaction
 *   → after commit: broadcast (the sender gets only the server's part),
 *     then `ack` the sender, then the observers hear of it (push).
 *   → a failed commit: the writes behind it fail too, every document that
 *     had one is dropped from memory with what depends on it (`failed`), its
 *     writers get `reject` with the storage's code, and the storage refuses
 *     writes until a probe commits (storage/health.ts).
 */
import * as Y from 'yjs';
import {
  conversationId,
  conversationPath,
  prefsPath,
  decide,
  errorMessage,
  segmentOf,
  type Decision,
  type Message,
  inboxPath,
  mayRead,
  mediaOf,
  parseDocPath,
  SERVER_ROOTS,
  validateUpdate,
  type ControlFrame,
  type DecodedUpdate,
  DEFAULT_SYNC_LIMITS,
  type ErrorCode,
  type ProfileEntry,
  type Verdict,
  LIMITS,
  scanUpdate,
  type UpdateBudget,
} from '@parley/protocol';
import { profileOf, Refusal } from '../auth/accounts.ts';
import type { Log } from '../log.ts';
import { GroupCommit } from '../storage/group-commit.ts';
import { StorageFaultError, StorageHealth, type StorageFaultCode } from '../storage/health.ts';
import type { IndexedMessage, Storage, Write } from '../storage/storage.ts';
import { Relations } from '../social/relations.ts';
import { SettingsStore } from '../social/settings.ts';
import { DEFAULT_AWARENESS_LIMITS, type AwarenessLimits } from './awareness.ts';
import { Connection, type Outlet, type UpdateSink } from './connection.ts';
import { TypingRelay } from './typing.ts';
import { recallInInbox, recordMessages, setProfile, setRelations, setUnread, totalUnread, type Stamped } from './inbox.ts';
import { ApplyFailedError, type LiveDoc } from './live-doc.ts';
import { DocRegistry } from './registry.ts';
import { MemoryWriteRate, type WriteRate } from './write-rate.ts';

/** What an inbox still has to record about one peer's conversation. */
interface PendingEntry {
  segment: string;
  stamped: Stamped[];
  now: number;
}

type UpdateMeta = DecodedUpdate['meta'];

/** A message of an exported history page; `message` is null once recalled. */
export interface ExportedMessage extends IndexedMessage {
  recalled: { by: string; ts: number } | null;
  message: Message | null;
}

/** A recalled message, as it was before its content was deleted. */
interface Recalled {
  message: Message;
  seq: number;
  by: string;
}

export interface HubOptions {
  /** How long after sending a sender may recall a message (PARLEY_RECALL_WINDOW_MS). */
  recallWindowMs?: number;
  /** How far ahead of the server's clock and how far back a client's `ts` may be (PARLEY_MAX_CLOCK_SKEW_MS, PARLEY_MAX_MESSAGE_AGE_MS). */
  tsWindow?: { maxSkewMs: number; maxAgeMs: number };
  /** Sync connections one user may hold at once (PARLEY_MAX_SOCKETS_PER_USER). */
  maxSocketsPerUser?: number;
  /** Distinct documents one user may hold open at once (PARLEY_MAX_DOCS_PER_USER). */
  maxDocsPerUser?: number;
  /** Presence states: their size and how many one connection may announce (PARLEY_MAX_AWARENESS_*). */
  awareness?: AwarenessLimits;
  /** Whether the disk is below its free reserve (storage/disk.ts), answered without waiting: new messages are refused then. */
  storageFull?: () => boolean;
  /** The most bytes and structs one client update may hold (PARLEY_MAX_UPDATE_BYTES, PARLEY_MAX_UPDATE_STRUCTS). */
  updateBudget?: UpdateBudget;
  /** New messages, edits, reactions and actions per user: per second and at once (PARLEY_MESSAGE_RATE, PARLEY_MESSAGE_BURST). */
  writeRate?: { rate: number; burst: number };
  /** The sockets' frame limit (PARLEY_MAX_FRAME_BYTES), which each connection is told with the limits above. */
  maxFrameBytes?: number;
  /** Whether the storage takes writes, and how it is probed after a failed commit (storage/health.ts); by default probed each second with no free-space check. */
  health?: StorageHealth;
}

/** What one user holds open: connections, and connections per document. */
interface Held {
  sockets: number;
  docs: Map<string, number>;
}

/** The defaults of PARLEY_MAX_UPDATE_BYTES and PARLEY_MAX_UPDATE_STRUCTS (config.ts says why). */
export const DEFAULT_UPDATE_BUDGET: UpdateBudget = { maxBytes: DEFAULT_SYNC_LIMITS.maxUpdateBytes, maxStructs: DEFAULT_SYNC_LIMITS.maxUpdateStructs };

export type OpenResult = { ok: true; connection: Connection } | { ok: false; code: ErrorCode };

/**
 * Writes that join an accepted message's own transaction (media references),
 * so they are exactly as durable as the message: called synchronously for each
 * message, client writes and server sends alike; cheap, and never throws.
 */
export type MessageWrites = (message: Message, conversation: string) => readonly Write[];

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

export class SyncHub implements UpdateSink {
  readonly commit: GroupCommit;
  /** Whether the storage takes writes (GET /api/v1/ready reports it). */
  readonly health: StorageHealth;
  readonly registry: DocRegistry;
  /**
   * The last sequence per conversation (`a/b`); memory is authoritative while
   * a document of the conversation is loaded (one writer), and the entry goes
   * when the last one unloads (see forgetConversation).
   */
  private readonly lastSeq = new Map<string, number>();
  /** Profiles of users with a loaded conversation, for their peers' inboxes; an entry goes with the user's last loaded conversation. */
  private readonly profiles = new Map<string, ProfileEntry>();
  /** Per conversation (`a/b`), its documents loaded or loading: `lastSeq` keeps an entry while this is above zero. */
  private readonly loadedConversations = new Map<string, number>();
  /** Per user, the loaded (or loading) conversation documents they are a member of: their profile and relations stay in memory while this is above zero. */
  private readonly loadedMembers = new Map<string, number>();
  /** Messages accepted since the last batch was taken, per inbox and peer, not yet recorded there. */
  private readonly unrecorded = new Map<LiveDoc, Map<string, PendingEntry>>();
  readonly settings: SettingsStore;
  readonly relations: Relations;
  /** "typing…" from conversation documents into the recipient's inbox (sync/typing.ts), never between users hidden from each other. */
  private readonly typing = new TypingRelay((typer, viewer) => this.presenceHidden(typer, viewer));
  /** The loaded conversation documents, whose presence follows their members' blocks. */
  private readonly conversations = new Set<LiveDoc>();
  private readonly awarenessLimits: AwarenessLimits;
  /** Open inbox connections per user and device: a device is online while its inbox socket is open. */
  private readonly online = new Map<string, Map<string, number>>();
  private readonly observers: HubObserver[] = [];
  private readonly recallWindowMs: number;
  private readonly tsWindow: { maxSkewMs: number; maxAgeMs: number };
  /** Per user, their connections (opening or open): the caps on sockets and documents count these. */
  private readonly held = new Map<string, Held>();
  private readonly maxSocketsPerUser: number;
  private readonly maxDocsPerUser: number;
  private readonly storageFull: () => boolean;
  private readonly updateBudget: UpdateBudget;
  private readonly writeRate: WriteRate;
  /** What each connection is told at open, so that its client sends in pieces the server takes. */
  private readonly limits: Extract<ControlFrame, { type: 'limits' }>;

  constructor(
    private readonly storage: Storage,
    unloadAfterMs: number,
    private readonly log: Log,
    options: HubOptions = {},
  ) {
    this.recallWindowMs = options.recallWindowMs ?? LIMITS.recallWindowMs;
    this.tsWindow = options.tsWindow ?? { maxSkewMs: LIMITS.maxClockSkewMs, maxAgeMs: LIMITS.maxMessageAgeMs };
    this.maxSocketsPerUser = options.maxSocketsPerUser ?? Infinity;
    this.maxDocsPerUser = options.maxDocsPerUser ?? Infinity;
    this.awarenessLimits = options.awareness ?? DEFAULT_AWARENESS_LIMITS;
    this.storageFull = options.storageFull ?? (() => false);
    this.updateBudget = options.updateBudget ?? DEFAULT_UPDATE_BUDGET;
    const burst = options.writeRate?.burst ?? DEFAULT_SYNC_LIMITS.writeBurst;
    this.writeRate = new MemoryWriteRate(options.writeRate?.rate ?? 5, burst);
    this.limits = {
      type: 'limits',
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_SYNC_LIMITS.maxFrameBytes,
      maxUpdateBytes: this.updateBudget.maxBytes,
      maxUpdateStructs: this.updateBudget.maxStructs,
      writeBurst: burst,
    };
    this.settings = new SettingsStore(storage);
    this.relations = new Relations(storage, this.settings);
    this.relations.onChange = (users) => {
      this.presenceChanged(users);
      for (const user of users) void this.reflectRelations(user);
    };
    this.health = options.health ?? new StorageHealth(storage, { retryMs: 1000, resumeFreeBytes: 0 }, log);
    this.commit = new GroupCommit(storage, this.health);
    this.commit.beforeFlush(() => this.flushInboxes());
    this.registry = new DocRegistry(
      storage,
      this.commit,
      unloadAfterMs,
      { loaded: (l) => this.loaded(l), unloaded: (l) => this.unloaded(l), failed: (l, code) => this.failed(l, code) },
      log,
    );
  }

  observe(observer: HubObserver): void {
    this.observers.push(observer);
  }

  private readonly messageWrites: MessageWrites[] = [];

  /** Adds `writes` to the transaction of every message accepted from now on. */
  alsoWrite(writes: MessageWrites): void {
    this.messageWrites.push(writes);
  }

  private writesFor(message: Message, conversation: string): Write[] {
    return this.messageWrites.flatMap((writes) => writes(message, conversation));
  }

  private tell(call: (observer: HubObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch (error) {
        this.log.error({ err: error }, 'hub observer failed');
      }
    }
  }

  /**
   * Opens `user`'s connection to a document, or says why not (before any sync
   * frame). The caps are checked and the slot taken before the document
   * loads, so that many sockets opened at once cannot all slip past them.
   * `closeWith`: tells the client a code and closes its socket (the document
   * was dropped after a failure; see LiveDoc).
   */
  async open(path: string, user: string, device: string, out: Outlet, closeWith?: (code: ErrorCode) => void): Promise<OpenResult> {
    const parsed = parseDocPath(path);
    if (parsed === null) return { ok: false, code: 'not-found' };
    if (!mayRead(parsed, user)) return { ok: false, code: parsed.kind === 'conversation' ? 'not-member' : 'not-owner-doc' };
    if (parsed.kind === 'conversation' && !(await this.exists(parsed.a === user ? parsed.b : parsed.a))) return { ok: false, code: 'user-not-found' };
    const held = this.held.get(user) ?? { sockets: 0, docs: new Map<string, number>() };
    if (held.sockets >= this.maxSocketsPerUser) return { ok: false, code: 'too-many-sockets' };
    if (!held.docs.has(path) && held.docs.size >= this.maxDocsPerUser) return { ok: false, code: 'too-many-docs' };
    this.hold(user, path, held);
    let live: LiveDoc;
    try {
      live = await this.registry.acquire(path);
    } catch (error) {
      this.letGo(user, path);
      throw error;
    }
    const connection = new Connection(live, user, device, out, this, this.log, closeWith);
    connection.start(this.limits);
    if (parsed.kind === 'inbox') {
      const devices = this.online.get(user) ?? new Map<string, number>();
      devices.set(device, (devices.get(device) ?? 0) + 1);
      this.online.set(user, devices);
    }
    return { ok: true, connection };
  }

  /**
   * Whether `user` has an account. A conversation with an id nobody holds is
   * refused (user-not-found), so nothing waits in a future account's inbox.
   * The profiles of loaded conversations answer first (accounts are never
   * deleted, so a known user stays known); otherwise one storage read, whose
   * answer is not kept: naming many users must not fill memory.
   */
  private async exists(user: string): Promise<boolean> {
    if (this.profiles.has(user)) return true;
    return (await this.storage.getUser(user)) !== undefined;
  }

  /** Reads a member's profile into `profiles` for their peer's inbox, once per stretch of their conversations being loaded. */
  private async cacheProfile(user: string): Promise<void> {
    if (this.profiles.has(user)) return;
    const record = await this.storage.getUser(user);
    // A profile change meanwhile has set the newer one already.
    if (record !== undefined && !this.profiles.has(user) && this.loadedMembers.has(user)) this.profiles.set(user, profileOf(record));
  }

  /**
   * Lets go of a connection's document, at once: its presence (awareness,
   * typing) leaves the peers, the device goes offline for push once its last
   * inbox connection is gone, and the user's slot is free.
   */
  detach(connection: Connection): void {
    connection.close();
    if (connection.live.parsed.kind === 'inbox') {
      const devices = this.online.get(connection.user);
      const n = (devices?.get(connection.device) ?? 0) - 1;
      if (n > 0) devices?.set(connection.device, n);
      else devices?.delete(connection.device);
      if (devices?.size === 0) this.online.delete(connection.user);
    }
    this.letGo(connection.user, connection.live.path);
    this.registry.release(connection.live);
  }

  /** What `user` holds open now: sockets, and distinct documents (the caps count these). */
  heldBy(user: string): { sockets: number; docs: number } {
    const held = this.held.get(user);
    return { sockets: held?.sockets ?? 0, docs: held?.docs.size ?? 0 };
  }

  private hold(user: string, path: string, held: Held): void {
    held.sockets++;
    held.docs.set(path, (held.docs.get(path) ?? 0) + 1);
    this.held.set(user, held);
  }

  private letGo(user: string, path: string): void {
    const held = this.held.get(user);
    if (held === undefined) return;
    held.sockets--;
    const n = (held.docs.get(path) ?? 0) - 1;
    if (n > 0) held.docs.set(path, n);
    else held.docs.delete(path);
    if (held.sockets <= 0) this.held.delete(user);
  }

  /** How many entries the per-peer caches hold (tests, metrics): each must follow what is loaded, not everyone ever named. */
  cacheSizes(): { lastSeq: number; profiles: number; relations: number } {
    return { lastSeq: this.lastSeq.size, profiles: this.profiles.size, relations: this.relations.size };
  }

  /** The devices of `user` with an open inbox socket. */
  devicesOnline(user: string): string[] {
    return [...(this.online.get(user)?.keys() ?? [])];
  }

  /**
   * Validator step 4 for one message, from facts in memory: the settings and
   * both members' relations (loaded with the conversation).
   */
  permit(from: string, to: string, asAdmin: boolean): Decision {
    const settings = this.settings.get();
    const sender = this.relations.peek(from);
    const recipient = this.relations.peek(to);
    return decide({
      messaging: settings.messaging,
      blocklistMode: settings.blocklistMode,
      senderHasRecipient: sender?.friends.has(to) ?? false,
      recipientHasSender: recipient?.friends.has(from) ?? false,
      blocked: recipient?.blocked.has(from) ?? false,
      asAdmin,
    });
  }

  submit(live: LiveDoc, connection: Connection, update: Uint8Array): void {
    const { user } = connection;
    if (!this.withinBudget(live, connection, update)) return;
    const verdict = validateUpdate(update, { user, path: live.parsed, doc: live.doc, now: Date.now(), recallWindowMs: this.recallWindowMs, tsWindow: this.tsWindow });
    if (!verdict.ok) {
      this.log.info({ doc: live.path, user, code: verdict.code, detail: verdict.detail }, 'update rejected');
      connection.sendControl({ type: 'reject', code: verdict.code, message: `${errorMessage(verdict.code)} (${verdict.detail})`, msgIds: verdict.msgIds });
      return;
    }
    if (verdict.empty) return;
    if (this.refusedForStorage(live, connection, verdict.messages)) return;
    if (this.refuseWithheldReceipts(live, connection, verdict)) return;
    if (this.refusedForSpace(live, connection, verdict.messages)) return;
    if (!this.withinRate(live, connection, verdict)) return;

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
        this.previewForSender(live, user, verdict.messages);
        return;
      }
      this.log.info({ doc: live.path, user, code: decision }, 'update rejected');
      connection.sendControl({ type: 'reject', code: decision, message: errorMessage(decision), msgIds });
      return;
    }
    const exact = exactClients(meta, live.doc);
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
    if (path.kind === 'conversation' && verdict.messages.length > 0) {
      conversation = conversationId(path.a, path.b);
      let last = this.lastSeq.get(conversation) ?? 0;
      for (const message of verdict.messages) {
        stamped.push({ message, seq: ++last });
        extra.push({ kind: 'message', conversation, seq: last, id: message.id, from: message.from, ts: message.ts, segment: path.segment });
        extra.push(...this.writesFor(message, conversation));
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
          // A recall's own update deletes the content; whatever it left, the server deletes.
          for (const r of recalled) eraseContent(live.doc, r.message.id);
        },
        extra,
        verdict.newClients,
        exact,
      );
    } catch (error) {
      // Nothing was stamped or queued (and a half-applied document was dropped: see LiveDoc.accept).
      const code = refusalCodeOf(error);
      if (!(error instanceof ApplyFailedError || error instanceof StorageFaultError)) this.log.error({ err: error, doc: live.path, user }, 'update could not be accepted');
      connection.sendControl({ type: 'reject', code, message: errorMessage(code), msgIds });
      return;
    }
    if (path.kind === 'prefs') this.tell((o) => o.prefsChanged?.(user, live.doc, verdict));
    if (conversation !== undefined && path.kind === 'conversation') {
      this.lastSeq.set(conversation, stamped.at(-1)?.seq ?? 0);
      // Recorded in both inboxes when this group commit's batch is taken, so in
      // the same transaction as the messages themselves (see flushInboxes).
      const now = Date.now();
      for (const inbox of live.dependencies) {
        const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
        this.noteInInbox(inbox, owner === path.a ? path.b : path.a, path.segment, stamped, now);
      }
    }

    committed.then(
      () => {
        connection.sendControl({ type: 'ack', client: position.client, clock: position.clock, msgIds });
        if (stamped.length > 0) this.tell((o) => o.messagesCommitted?.(conversationEvent(live, stamped)));
        if (recalled.length > 0) {
          this.afterRecall(live.path, recalled).catch((error: unknown) => this.log.error({ err: error, doc: live.path }, 'recall erasure failed'));
        }
        if (path.kind === 'conversation') {
          for (const r of verdict.receipts) {
            if (r.kind === 'read') void this.refreshUnread(path.a === user ? path.b : path.a, user, r.seq);
          }
        }
      },
      (error: unknown) => {
        // The document was dropped already (LiveDoc), with its connections: this refusal is the last frame this one sends.
        const code = refusalCodeOf(error);
        this.log.info({ doc: live.path, user, code, msgIds }, 'update refused: its commit failed');
        connection.sendControl({ type: 'reject', code, message: errorMessage(code), msgIds });
      },
    );
  }

  /**
   * While the storage is in fault (a commit failed; storage/health.ts) every
   * update is refused whole with its code, before anything is applied; the
   * client keeps what it wrote and sends it again (the web app shows the
   * messages as not sent, with the reason, and Retry).
   */
  private refusedForStorage(live: LiveDoc, connection: Connection, messages: readonly Message[]): boolean {
    const refused = this.commit.refusing();
    if (refused === null) return false;
    const msgIds = messages.map((m) => m.id);
    this.log.debug({ doc: live.path, user: connection.user, code: refused.code }, 'update rejected');
    connection.sendControl({ type: 'reject', code: refused.code, message: errorMessage(refused.code), msgIds });
    return true;
  }

  /** For the server's own writes (admin sends, imports): refused with the storage's code while it is in fault, before a sequence is taken. */
  private assertWritable(): void {
    const refused = this.commit.refusing();
    if (refused !== null) throw new Refusal(refused.code, 'a write to storage failed; writes resume by themselves once it commits again (GET /api/v1/ready)');
  }

  /**
   * A document holds what storage does not. After an update that could not
   * be applied whole (`internal`), that document alone is dropped: nothing
   * was stamped, and its writes in flight stay good. After a failed commit
   * (the whole queue failed with it), every document that had a failed
   * write reports it, and each is dropped with what stands on it:
   *
   * - every loaded segment of the same conversation, whose sequence counter
   *   (`lastSeq`, advanced before the commit) is forgotten, so it is read
   *   again from storage;
   * - for an inbox, the loaded conversations that keep it (their
   *   `dependencies` would otherwise point at a dropped copy);
   * - the inbox entries not yet written (`unrecorded`): each was noted for a
   *   message queued behind the failed batch, so failed with it.
   *
   * A conversation's inboxes need not go with it: their entries for its
   * failed messages were written in the same batch or behind it (so they
   * failed and report it), or were still unrecorded.
   */
  private failed(live: LiveDoc, code: StorageFaultCode | 'internal'): void {
    if (code === 'internal') {
      this.registry.reset(live, code);
      return;
    }
    this.unrecorded.clear();
    // Documents still loading too: one may have read the forgotten `lastSeq` already.
    const inMemory = this.registry.inMemory();
    const drop = new Set<LiveDoc>([live]);
    const work = [live];
    for (let doc = work.pop(); doc !== undefined; doc = work.pop()) {
      const path = doc.parsed;
      const next: LiveDoc[] = [];
      if (path.kind === 'conversation') {
        const conversation = conversationId(path.a, path.b);
        this.lastSeq.delete(conversation);
        next.push(...inMemory.filter((other) => other.parsed.kind === 'conversation' && conversationId(other.parsed.a, other.parsed.b) === conversation));
      } else if (path.kind === 'inbox') {
        next.push(...inMemory.filter((other) => other.dependencies.some((d) => d.path === doc.path)));
      }
      for (const other of next) {
        if (drop.has(other)) continue;
        drop.add(other);
        work.push(other);
      }
    }
    for (const doc of drop) this.registry.reset(doc, code);
  }

  /**
   * A silently dropped message (the sender is blocked) still becomes the
   * conversation's preview in the sender's own inbox, as a sent one would, so
   * that their conversation list on every device shows what they sent; the
   * recipient's inbox, and the conversation document both share, are left
   * untouched. It takes the sequence of the last accepted message (it has none
   * of its own) and counts as nothing unread.
   */
  private previewForSender(live: LiveDoc, sender: string, messages: readonly Message[]): void {
    const path = live.parsed;
    const inbox = live.dependencies.find((d) => d.parsed.kind === 'inbox' && d.parsed.user === sender);
    if (path.kind !== 'conversation' || inbox === undefined || messages.length === 0) return;
    const seq = this.lastSeq.get(conversationId(path.a, path.b)) ?? 0;
    const peer = path.a === sender ? path.b : path.a;
    inbox
      .write(() => recordMessages(inbox.doc, peer, path.segment, messages.map((message) => ({ message, seq })), seq, Date.now(), false))
      .catch((error: unknown) => this.log.error({ err: error, doc: inbox.path }, 'sender preview failed'));
  }

  /**
   * Below the free-disk reserve an update with new messages is refused whole
   * (storage-full), before anything is applied: never acknowledged and then
   * lost. Receipts, reactions and recalls still pass: they are small, and a
   * recall frees space.
   */
  private refusedForSpace(live: LiveDoc, connection: Connection, messages: readonly Message[]): boolean {
    if (messages.length === 0 || !this.storageFull()) return false;
    const msgIds = messages.map((m) => m.id);
    this.log.info({ doc: live.path, user: connection.user, code: 'storage-full' }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'storage-full', message: errorMessage('storage-full'), msgIds });
    return true;
  }

  /**
   * Bounded work per frame: an update over the byte or struct budget is
   * refused from a scan of its bytes (protocol/src/scan.ts), before Yjs
   * decodes it, so that it costs microseconds and no memory. A malformed one
   * goes on to the validator, which says why.
   */
  private withinBudget(live: LiveDoc, connection: Connection, update: Uint8Array): boolean {
    const scan = scanUpdate(update, this.updateBudget);
    if (scan.ok || scan.reason === 'malformed') return true;
    this.log.info({ doc: live.path, user: connection.user, code: 'update-too-large', detail: scan.detail }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'update-too-large', message: `${errorMessage('update-too-large')} (${scan.detail})`, msgIds: [] });
    return false;
  }

  /**
   * The per-user write rate (sync/write-rate.ts): each new message, edit,
   * reaction and action of an accepted-to-be update takes a token; without
   * enough, the whole update is refused (`slow-down`) and the client sends it
   * again after `retryAfterMs`.
   */
  private withinRate(live: LiveDoc, connection: Connection, verdict: Extract<Verdict, { ok: true }>): boolean {
    const writes = verdict.messages.length + verdict.edits.length + verdict.reactions.length + verdict.actions.length;
    const taken = this.writeRate.take(connection.user, writes);
    if (taken.ok) return true;
    const msgIds = verdict.messages.map((m) => m.id);
    this.log.info({ doc: live.path, user: connection.user, code: 'slow-down', writes }, 'update rejected');
    connection.sendControl({ type: 'reject', code: 'slow-down', message: errorMessage('slow-down'), msgIds, retryAfterMs: taken.retryAfterMs });
    return false;
  }

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
      const seq = (this.lastSeq.get(conversation) ?? 0) + 1;
      this.lastSeq.set(conversation, seq);
      const done = live.write(
        () => {
          live.doc.getMap('messages').set(message.id, message);
          live.doc.getMap<number>(SERVER_ROOTS.seq).set(message.id, seq);
        },
        [
          { kind: 'message', conversation, seq, id: message.id, from: message.from, ts: message.ts, segment: path.segment },
          { kind: 'last-seq', conversation, seq },
          ...this.writesFor(message, conversation),
        ],
      );
      const now = Date.now();
      for (const inbox of live.dependencies) {
        const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
        if (owner === message.from && !syncToSender) continue;
        this.noteInInbox(inbox, owner === path.a ? path.b : path.a, path.segment, [{ message, seq }], now);
      }
      await done;
      this.tell((o) => o.messagesCommitted?.(conversationEvent(live, [{ message, seq }])));
      return seq;
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * Recalls a message (admin): the message key is deleted (its content goes
   * with it), and `recalls[id] = {by, ts}` is left as the marker devices show.
   */
  async recall(x: string, y: string, id: string, by: string): Promise<void> {
    const found = (await this.history(x, y, { from: 0, to: Number.MAX_SAFE_INTEGER, cursor: 0, limit: Number.MAX_SAFE_INTEGER }, false)).find((m) => m.id === id);
    if (found === undefined) throw new Refusal('message-not-found');
    const live = await this.registry.acquire(conversationPath(x, y, found.segment));
    try {
      const message = live.doc.getMap<Message>('messages').get(id);
      await live.write(() => {
        eraseContent(live.doc, id);
        live.doc.getMap('recalls').set(id, { by, ts: Date.now() });
      });
      if (message !== undefined) await this.afterRecall(live.path, [{ message, seq: found.seq, by }]);
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * After a recall is durable: tells the observers (the recall push), replaces
   * the message's preview in both inboxes when it is their `last`, and erases
   * the old bytes from storage: the conversation document and both inboxes
   * are compacted from their garbage-collected state (see Storage.erase).
   */
  private async afterRecall(docPath: string, recalled: readonly Recalled[]): Promise<void> {
    const live = await this.registry.acquire(docPath);
    try {
      for (const r of recalled) this.tell((o) => o.messageRecalled?.({ ...conversationEvent(live, [{ message: r.message, seq: r.seq }]), by: r.by }));
      if (live.parsed.kind === 'conversation') await this.revokeMedia(live.parsed.a, live.parsed.b, recalled);
      const now = Date.now();
      await Promise.all(
        live.dependencies.map((inbox) => {
          const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
          const path = live.parsed;
          const peer = path.kind === 'conversation' && owner === path.a ? path.b : path.kind === 'conversation' ? path.a : '';
          return inbox.write(() => {
            for (const r of recalled) {
              const nickname = this.profiles.get(r.message.from)?.nickname ?? r.message.profile.nickname;
              const preview = r.by === r.message.from ? `${nickname} recalled a message` : 'A message was recalled';
              recallInInbox(inbox.doc, peer, r.message.id, preview, now);
            }
          });
        }),
      );
      // The author's prefs document too: a draft of the message, saved while it was typed and cleared
      // when it was sent, is still in its stored updates.
      const authors = await Promise.all([...new Set(recalled.map((r) => r.message.from))].map((user) => this.registry.acquire(prefsPath(user))));
      try {
        await this.registry.erase([live, ...live.dependencies, ...authors]);
      } finally {
        for (const prefs of authors) this.registry.release(prefs);
      }
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * A recall revokes the peer's access to the recalled messages' media: each
   * hash that no other message of the conversation (any segment) still
   * references loses the conversation's reference (`media-unref`); its
   * uploader keeps access as uploader. The documents are scanned and the
   * write queued with no await between, so a message accepted afterwards
   * (which references it again) commits after the revocation, not before.
   * Costs a scan of the conversation's history, only for a recalled message
   * that carried media.
   */
  private async revokeMedia(x: string, y: string, recalled: readonly Recalled[]): Promise<void> {
    const hashes = new Set(recalled.flatMap((r) => mediaOf(r.message.body).map((ref) => ref.hash)));
    if (hashes.size === 0) return;
    const conversation = conversationId(x, y);
    await this.commit.idle();
    const docs: LiveDoc[] = [];
    try {
      for (const { segment } of await this.storage.segmentsOf(conversation)) docs.push(await this.registry.acquire(conversationPath(x, y, segment)));
      for (const live of docs) {
        for (const message of live.doc.getMap<Message>('messages').values()) for (const ref of mediaOf(message.body)) hashes.delete(ref.hash);
      }
      if (hashes.size > 0) await this.commit.write([...hashes].map((hash): Write => ({ kind: 'media-unref', hash, conversation })));
    } finally {
      for (const live of docs) this.registry.release(live);
    }
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
      let seq = this.lastSeq.get(conversation) ?? 0;
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
      this.lastSeq.set(conversation, seq);
      const done: Promise<void>[] = [];
      let anyDoc: LiveDoc | undefined;
      for (const [segment, stamped] of bySegment) {
        const target = docs.get(segment);
        if (target === undefined) continue;
        anyDoc = target;
        const writes: Write[] = [];
        for (const s of stamped) {
          writes.push({ kind: 'message', conversation, seq: s.seq, id: s.message.id, from: s.message.from, ts: s.message.ts, segment });
          writes.push(...this.writesFor(s.message, conversation));
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
          if (live) this.noteInInbox(inbox, peer, newestSegment, all, now);
          else {
            done.push(
              inbox.write(() => {
                recordMessages(inbox.doc, peer, newestSegment, [newest], seq, now, false);
                const profile = this.profiles.get(peer);
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
          if (target !== undefined) this.tell((o) => o.messagesCommitted?.(conversationEvent(target, stamped)));
        }
      }
      return { imported: seen.size, duplicates };
    } finally {
      for (const doc of docs.values()) this.registry.release(doc);
    }
  }

  /** The month segments of the pair's conversation that hold messages, oldest first (from the index; no document is loaded). */
  async segments(x: string, y: string): Promise<{ segment: string; count: number; firstSeq: number; lastSeq: number }[]> {
    await this.commit.idle();
    return this.storage.segmentsOf(conversationId(x, y));
  }

  /** A pair's history in acceptance order, paged by time range and sequence cursor (msg_index + the documents). */
  async history(
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

  /** Writes the user's friends, blocklist and requests into their inbox, for devices to see offline. */
  async reflectRelations(user: string): Promise<void> {
    try {
      const rel = await this.relations.load(user);
      const inbox = await this.registry.acquire(inboxPath(user));
      try {
        await inbox.write(() => setRelations(inbox.doc, user, rel));
      } finally {
        this.registry.release(inbox);
      }
    } catch (error) {
      this.log.error({ err: error, user }, 'relations reflection failed');
    }
  }

  private noteInInbox(inbox: LiveDoc, peer: string, segment: string, stamped: readonly Stamped[], now: number): void {
    let peers = this.unrecorded.get(inbox);
    if (peers === undefined) this.unrecorded.set(inbox, (peers = new Map<string, PendingEntry>()));
    const entry = peers.get(peer);
    if (entry === undefined) peers.set(peer, { segment, stamped: [...stamped], now });
    else {
      // Segments are YYYY-MM, so string order is time order.
      if (segment > entry.segment) entry.segment = segment;
      entry.stamped.push(...stamped);
      entry.now = now;
    }
  }

  /**
   * One inbox write per inbox per group commit, whatever the number of
   * messages since the last: the same entry recordMessages would leave after
   * recording them one by one, as one Yjs transaction and one log row.
   */
  private flushInboxes(): void {
    if (this.unrecorded.size === 0) return;
    const batch = [...this.unrecorded];
    this.unrecorded.clear();
    for (const [inbox, peers] of batch) {
      if (inbox.destroyed) continue;
      try {
        inbox
          .write(() => {
            for (const [peer, { segment, stamped, now }] of peers) {
              recordMessages(inbox.doc, peer, segment, stamped, stamped.at(-1)?.seq ?? 0, now);
              const profile = this.profiles.get(peer);
              if (profile !== undefined) setProfile(inbox.doc, profile);
            }
          })
          // A failed commit is logged by the document.
          .catch(() => undefined);
      } catch (error) {
        this.log.error({ err: error, doc: inbox.path }, 'inbox update failed');
      }
    }
  }

  /** After a read receipt: the reader's unread count is what the peer wrote after the read sequence. */
  private async refreshUnread(peer: string, reader: string, readSeq: number): Promise<void> {
    try {
      const inbox = await this.registry.acquire(inboxPath(reader));
      try {
        // Every accepted message so far is in msg_index once the queue is drained.
        await this.commit.idle();
        const unread = await this.storage.countMessagesAfter(conversationId(peer, reader), peer, readSeq);
        await inbox.write(() => setUnread(inbox.doc, peer, unread, Date.now()));
      } finally {
        this.registry.release(inbox);
      }
    } catch (error) {
      this.log.error({ err: error, reader, peer }, 'unread refresh failed');
    }
  }

  /** A user's profile changed: refresh it in the inbox of everyone they talk to. */
  async profileChanged(profile: ProfileEntry): Promise<void> {
    if (this.loadedMembers.has(profile.id)) this.profiles.set(profile.id, profile);
    for (const peer of await this.storage.peersOf(profile.id)) {
      const inbox = await this.registry.acquire(inboxPath(peer));
      try {
        await inbox.write(() => setProfile(inbox.doc, profile));
      } finally {
        this.registry.release(inbox);
      }
    }
  }

  /**
   * Whether `owner`'s presence (typing, `here`) is kept from `viewer`: when
   * either blocked the other. The blocked user must not learn of the block
   * from the blocker's presence, and the blocker does not want the blocked
   * one's typing. Both members' relations are loaded with their conversation.
   */
  presenceHidden(owner: string, viewer: string): boolean {
    return this.relations.peek(owner)?.blocked.has(viewer) === true || this.relations.peek(viewer)?.blocked.has(owner) === true;
  }

  /**
   * Whether `user`'s receipts in the conversation with `peer` are kept out of
   * the document: while `user` blocks `peer`, the blocked user sees no new
   * delivered or read state from them (docs/security.md, "Presence").
   */
  receiptsWithheld(user: string, peer: string): boolean {
    return this.relations.peek(user)?.blocked.has(peer) === true;
  }

  /**
   * A receipt written by a user in a conversation with someone they block is
   * not taken: the update is refused as out of step (`reset-required`), which
   * the app handles without a word: it drops its copy, syncs the server's
   * again and re-applies what it still has to send, and it writes no receipt
   * for a peer on its blocklist. Refused rather than stripped, because the
   * other structs of the update follow the receipt's under the same client
   * id: withholding one from the peer would stall the rest in the peer's copy.
   */
  private refuseWithheldReceipts(live: LiveDoc, connection: Connection, verdict: Extract<Verdict, { ok: true }>): boolean {
    const path = live.parsed;
    const { user } = connection;
    if (path.kind !== 'conversation' || verdict.receipts.length === 0 || !this.receiptsWithheld(user, path.a === user ? path.b : path.a)) return false;
    const msgIds = verdict.messages.map((m) => m.id);
    this.log.info({ doc: live.path, user, msgIds }, 'receipt to a blocked user refused');
    connection.sendControl({ type: 'reject', code: 'reset-required', message: `${errorMessage('reset-required')} (receipts withheld)`, msgIds });
    return true;
  }

  /** Relations of `users` changed: presence in their loaded conversations follows at once. */
  private presenceChanged(users: readonly string[]): void {
    const touched = new Set(users);
    for (const live of this.conversations) {
      const path = live.parsed;
      if (live.destroyed || path.kind !== 'conversation' || !(touched.has(path.a) || touched.has(path.b))) continue;
      live.presence.refresh(live.connections);
      this.typing.changed(live);
    }
  }

  /** A conversation keeps both inboxes, its sequence and both profiles at hand, so accepting never waits for storage. */
  private async loaded(live: LiveDoc): Promise<void> {
    live.presence.limits = this.awarenessLimits;
    live.presence.hidden = (owner, viewer) => this.presenceHidden(owner, viewer);
    const path = live.parsed;
    if (path.kind !== 'conversation') return;
    // Counted before the first await, so that nothing of it is evicted while it loads.
    this.keepConversation(path);
    try {
      await this.settings.load();
      await this.relations.load(path.a);
      await this.relations.load(path.b);
      const conversation = conversationId(path.a, path.b);
      if (!this.lastSeq.has(conversation)) {
        const seq = await this.storage.lastSeq(conversation);
        if (!this.lastSeq.has(conversation)) this.lastSeq.set(conversation, seq);
      }
      // Only accounts that exist are cached: `profiles` is also a record of who exists (see exists()).
      for (const member of [path.a, path.b]) await this.cacheProfile(member);
      live.dependencies = [await this.registry.acquire(inboxPath(path.a)), await this.registry.acquire(inboxPath(path.b))];
    } catch (error) {
      this.forgetConversation(path);
      throw error;
    }
    if (live.destroyed) {
      // Dropped after a failure while it loaded (its `unloaded` found nothing to let go of yet); acquire loads it again.
      for (const dependency of live.dependencies) this.registry.release(dependency);
      live.dependencies = [];
      return;
    }
    if (live.dependencies.some((d) => d.destroyed)) {
      // An inbox was dropped while this loaded: this goes too (letting go of both), and acquire loads it again.
      this.registry.reset(live, 'storage-unavailable');
      return;
    }
    live.awareness.on('change', () => this.typing.changed(live));
    this.conversations.add(live);
  }

  /** A conversation document is loading: its sequence, and its members' profiles and relations, stay in memory until it unloads. */
  private keepConversation(path: { a: string; b: string }): void {
    const conversation = conversationId(path.a, path.b);
    this.loadedConversations.set(conversation, (this.loadedConversations.get(conversation) ?? 0) + 1);
    for (const member of new Set([path.a, path.b])) {
      const n = this.loadedMembers.get(member) ?? 0;
      this.loadedMembers.set(member, n + 1);
      if (n === 0) this.relations.keep(member);
    }
  }

  /**
   * A conversation document unloaded (or failed to load). When no document
   * of the conversation is left, its last sequence leaves memory: a document
   * unloads only once nothing of it is pending, so storage holds the
   * committed value, which the next load reads. When a member has no loaded
   * conversation left, their profile and relations leave memory too.
   */
  private forgetConversation(path: { a: string; b: string }): void {
    const conversation = conversationId(path.a, path.b);
    if (countDown(this.loadedConversations, conversation) === 0) this.lastSeq.delete(conversation);
    for (const member of new Set([path.a, path.b])) {
      if (countDown(this.loadedMembers, member) > 0) continue;
      this.profiles.delete(member);
      this.relations.forget(member);
    }
  }

  private unloaded(live: LiveDoc): void {
    this.conversations.delete(live);
    if (live.parsed.kind === 'conversation') {
      this.typing.gone(live);
      this.forgetConversation(live.parsed);
    }
    for (const dependency of live.dependencies) this.registry.release(dependency);
    live.dependencies = [];
  }

  async close(): Promise<void> {
    await this.commit.idle();
    this.health.close();
    await this.registry.closeAll();
  }
}

/** Counts `key` down by one (forgetting it at zero); returns what is left. */
function countDown(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
  return Math.max(n, 0);
}

/** The code a writer is refused with when its write could not be accepted or committed. */
function refusalCodeOf(error: unknown): ErrorCode {
  return error instanceof StorageFaultError ? error.code : 'internal';
}

/** Deletes a recalled message's content and its edits from a conversation document (no-op for what is gone already). */
function eraseContent(doc: Y.Doc, id: string): void {
  const messages = doc.getMap('messages');
  if (messages.has(id)) messages.delete(id);
  const edits = doc.getMap('edits');
  for (const key of [...edits.keys()]) if (key.startsWith(`${id}|`)) edits.delete(key);
}

/** An event about a loaded conversation document; its members' inboxes are loaded with it. */
function conversationEvent(live: LiveDoc, stamped: readonly Stamped[]): ConversationEvent {
  return {
    doc: live.path,
    stamped,
    unreadOf: (user) => {
      const inbox = live.dependencies.find((d) => d.parsed.kind === 'inbox' && d.parsed.user === user);
      return inbox === undefined || inbox.destroyed ? 0 : totalUnread(inbox.doc);
    },
  };
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
