/**
 * What the server projects into the inboxes (`inbox/<user>`) from the rest:
 * entries for accepted messages, batched so that each inbox takes one write
 * per group commit; unread counts after read receipts; the sender's preview of
 * a silently dropped message; relations and profiles. The Y.Doc edits
 * themselves are in inbox.ts.
 */
import { conversationId, inboxPath, type Message, type ProfileEntry } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Storage } from '../storage/storage.ts';
import type { Relations } from '../social/relations.ts';
import { recordMessages, setProfile, setRelations, setUnread, type Stamped } from './inbox.ts';
import type { LiveDoc } from './live-doc.ts';
import type { LoadedConversations } from './loaded.ts';
import type { DocRegistry } from './registry.ts';

/** What an inbox still has to record about one peer's conversation. */
interface PendingEntry {
  segment: string;
  stamped: Stamped[];
  now: number;
}

export class InboxProjection {
  /** Messages accepted since the last batch was taken, per inbox and peer, not yet recorded there. */
  private readonly unrecorded = new Map<LiveDoc, Map<string, PendingEntry>>();

  constructor(
    private readonly storage: Storage,
    private readonly registry: DocRegistry,
    private readonly commit: GroupCommit,
    private readonly relations: Relations,
    private readonly loaded: LoadedConversations,
    private readonly log: Log,
  ) {}

  /** Notes messages for `inbox`'s entry of its conversation with `peer`, recorded when the group commit's batch is taken (see flush). */
  note(inbox: LiveDoc, peer: string, segment: string, stamped: readonly Stamped[], now: number): void {
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

  /** Forgets the entries not yet written: after a failed commit each was noted for a message behind it, so failed with it. */
  clear(): void {
    this.unrecorded.clear();
  }

  /**
   * One inbox write per inbox per group commit, whatever the number of
   * messages since the last: the same entry recordMessages would leave after
   * recording them one by one, as one Yjs transaction and one log row.
   */
  flush(): void {
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
              const profile = this.loaded.profiles.get(peer);
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

  /**
   * A silently dropped message (the sender is blocked) still becomes the
   * conversation's preview in the sender's own inbox, as a sent one would, so
   * that their conversation list on every device shows what they sent; the
   * recipient's inbox, and the conversation document both share, are left
   * untouched. It takes the sequence of the last accepted message (it has none
   * of its own) and counts as nothing unread.
   */
  previewForSender(live: LiveDoc, sender: string, messages: readonly Message[]): void {
    const path = live.parsed;
    const inbox = live.dependencies.find((d) => d.parsed.kind === 'inbox' && d.parsed.user === sender);
    if (path.kind !== 'conversation' || inbox === undefined || messages.length === 0) return;
    const seq = this.loaded.lastSeq.get(conversationId(path.a, path.b)) ?? 0;
    const peer = path.a === sender ? path.b : path.a;
    inbox
      .write(() => recordMessages(inbox.doc, peer, path.segment, messages.map((message) => ({ message, seq })), seq, Date.now(), false))
      .catch((error: unknown) => this.log.error({ err: error, doc: inbox.path }, 'sender preview failed'));
  }

  /** After a read receipt: the reader's unread count is what the peer wrote after the read sequence. */
  async refreshUnread(peer: string, reader: string, readSeq: number): Promise<void> {
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

  /** A user's profile changed: refresh it in the inbox of everyone they talk to. */
  /** Hears each profile change made here (a cluster tells the other processes, whose caches follow through `loaded`). */
  onProfile: (profile: ProfileEntry) => void = () => undefined;

  async profileChanged(profile: ProfileEntry): Promise<void> {
    this.loaded.profileChanged(profile);
    this.onProfile(profile);
    for (const peer of await this.storage.peersOf(profile.id)) {
      const inbox = await this.registry.acquire(inboxPath(peer));
      try {
        await inbox.write(() => setProfile(inbox.doc, profile));
      } finally {
        this.registry.release(inbox);
      }
    }
  }
}
