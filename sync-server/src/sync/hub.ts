/**
 * The sync core: opens connections to documents, and accepts or rejects every
 * client update. The accept path is synchronous from validation to queueing
 * the commit, so updates are judged against, and stamped in, acceptance order:
 *
 *   validateUpdate → apply the update (one transaction), then the server's
 *   writes on it (claim client ids, stamp seq; a second one)
 *   → queued in the group commit; both inboxes are updated once per batch,
 *     in the same transaction
 *   → after commit: broadcast (the sender gets only the server's part),
 *     then `ack` the sender.
 */
import * as Y from 'yjs';
import {
  conversationId,
  errorMessage,
  inboxPath,
  mayRead,
  parseDocPath,
  SERVER_ROOTS,
  validateUpdate,
  type ErrorCode,
  type ProfileEntry,
} from '@parley/protocol';
import { profileOf } from '../auth/accounts.ts';
import type { Log } from '../log.ts';
import { GroupCommit } from '../storage/group-commit.ts';
import type { Storage, Write } from '../storage/storage.ts';
import { Connection, type UpdateSink } from './connection.ts';
import { recordMessages, setProfile, setUnread, type Stamped } from './inbox.ts';
import type { LiveDoc } from './live-doc.ts';
import { DocRegistry } from './registry.ts';

/** What an inbox still has to record about one peer's conversation. */
interface PendingEntry {
  segment: string;
  stamped: Stamped[];
  now: number;
}

type UpdateMeta = ReturnType<typeof Y.parseUpdateMeta>;

export type OpenResult = { ok: true; connection: Connection } | { ok: false; code: ErrorCode };

export class SyncHub implements UpdateSink {
  readonly commit: GroupCommit;
  readonly registry: DocRegistry;
  /** The last sequence per conversation (`a/b`); memory is authoritative once loaded (one writer). */
  private readonly lastSeq = new Map<string, number>();
  /** Profiles of users with a loaded conversation, for their peers' inboxes. */
  private readonly profiles = new Map<string, ProfileEntry>();
  /** Messages accepted since the last batch was taken, per inbox and peer, not yet recorded there. */
  private readonly unrecorded = new Map<LiveDoc, Map<string, PendingEntry>>();

  constructor(
    private readonly storage: Storage,
    unloadAfterMs: number,
    private readonly log: Log,
  ) {
    this.commit = new GroupCommit(storage);
    this.commit.beforeFlush(() => this.flushInboxes());
    this.registry = new DocRegistry(storage, this.commit, unloadAfterMs, { loaded: (l) => this.loaded(l), unloaded: (l) => this.unloaded(l) }, log);
  }

  /** Opens `user`'s connection to a document, or says why not (before any sync frame). */
  async open(path: string, user: string, device: string, out: (bytes: Uint8Array) => void): Promise<OpenResult> {
    const parsed = parseDocPath(path);
    if (parsed === null) return { ok: false, code: 'not-found' };
    if (!mayRead(parsed, user)) return { ok: false, code: parsed.kind === 'conversation' ? 'not-member' : 'not-owner-doc' };
    const live = await this.registry.acquire(path);
    const connection = new Connection(live, user, device, out, this, this.log);
    connection.start();
    return { ok: true, connection };
  }

  /** Lets go of a connection's document. */
  detach(connection: Connection): void {
    connection.close();
    this.registry.release(connection.live);
  }

  submit(live: LiveDoc, connection: Connection, update: Uint8Array): void {
    const { user } = connection;
    const verdict = validateUpdate(update, { user, path: live.parsed, doc: live.doc });
    if (!verdict.ok) {
      this.log.info({ doc: live.path, user, code: verdict.code, detail: verdict.detail }, 'update rejected');
      connection.sendControl({ type: 'reject', code: verdict.code, message: `${errorMessage(verdict.code)} (${verdict.detail})`, msgIds: verdict.msgIds });
      return;
    }
    if (verdict.empty) return;

    const meta = Y.parseUpdateMeta(update);
    const position = ackPosition(meta, live.doc);
    const exact = exactClients(meta, live.doc);
    const path = live.parsed;
    const stamped: Stamped[] = [];
    const extra: Write[] = [];
    let conversation: string | undefined;
    if (path.kind === 'conversation' && verdict.messages.length > 0) {
      conversation = conversationId(path.a, path.b);
      let last = this.lastSeq.get(conversation) ?? 0;
      for (const message of verdict.messages) {
        stamped.push({ message, seq: ++last });
        extra.push({ kind: 'message', conversation, seq: last, id: message.id, from: message.from, ts: message.ts, segment: path.segment });
      }
      extra.push({ kind: 'last-seq', conversation, seq: last });
    }

    const committed = live.accept(
      connection,
      update,
      () => {
        const clients = live.doc.getMap(SERVER_ROOTS.clients);
        for (const id of verdict.newClients) clients.set(String(id), { user });
        const seq = live.doc.getMap<number>(SERVER_ROOTS.seq);
        for (const s of stamped) seq.set(s.message.id, s.seq);
      },
      extra,
      verdict.newClients,
      exact,
    );
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

    const msgIds = verdict.messages.map((m) => m.id);
    committed.then(
      () => {
        connection.sendControl({ type: 'ack', client: position.client, clock: position.clock, msgIds });
        if (path.kind === 'conversation') {
          for (const r of verdict.receipts) {
            if (r.kind === 'read') void this.refreshUnread(path.a === user ? path.b : path.a, user, r.seq);
          }
        }
      },
      () => connection.sendControl({ type: 'reject', code: 'internal', message: errorMessage('internal'), msgIds }),
    );
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
    this.profiles.set(profile.id, profile);
    for (const peer of await this.storage.peersOf(profile.id)) {
      const inbox = await this.registry.acquire(inboxPath(peer));
      try {
        await inbox.write(() => setProfile(inbox.doc, profile));
      } finally {
        this.registry.release(inbox);
      }
    }
  }

  /** A conversation keeps both inboxes, its sequence and both profiles at hand, so accepting never waits for storage. */
  private async loaded(live: LiveDoc): Promise<void> {
    const path = live.parsed;
    if (path.kind !== 'conversation') return;
    const conversation = conversationId(path.a, path.b);
    if (!this.lastSeq.has(conversation)) {
      const seq = await this.storage.lastSeq(conversation);
      if (!this.lastSeq.has(conversation)) this.lastSeq.set(conversation, seq);
    }
    for (const member of [path.a, path.b]) {
      if (!this.profiles.has(member)) {
        const user = await this.storage.getUser(member);
        this.profiles.set(member, user === undefined ? { id: member, nickname: member } : profileOf(user));
      }
    }
    live.dependencies = [await this.registry.acquire(inboxPath(path.a)), await this.registry.acquire(inboxPath(path.b))];
  }

  private unloaded(live: LiveDoc): void {
    for (const dependency of live.dependencies) this.registry.release(dependency);
    live.dependencies = [];
  }

  async close(): Promise<void> {
    await this.commit.idle();
    await this.registry.closeAll();
  }
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
