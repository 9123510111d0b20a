/**
 * The sync core: opens connections to documents, closes them, and observes
 * documents loading, unloading and failing; the rest of its work is done by
 * parts it composes, one job each:
 *
 *   accept.ts            the accept path: every client update, judged and applied
 *   send-gate.ts         before it, when on: the app backend's verdict on new messages
 *   accept-checks.ts     its refusals before anything is applied
 *   server-writes.ts     the server's own messages (admin send, import)
 *   recall.ts            recall erasure (admin recall, and after a client's)
 *   inbox-projection.ts  inbox entries, unread counts, relations and profiles
 *   history.ts           history and segment queries
 *   presence.ts          online devices, blocks hiding presence, typing
 *   loaded.ts            what a loaded conversation keeps in memory (lastSeq, profiles)
 *   caps.ts              sockets and documents per user
 *
 * A failed commit: the writes behind it fail too, every document that had
 * one is dropped from memory with what depends on it (`failed`), its writers
 * get `reject` with the storage's code, and the storage refuses writes until
 * a probe commits (storage/health.ts).
 */
import {
  conversationId,
  inboxPath,
  mayRead,
  parseDocPath,
  type ControlFrame,
  DEFAULT_SYNC_LIMITS,
  type ErrorCode,
  LIMITS,
  type Privacy,
  type UpdateBudget,
} from '@parley/protocol';
import type { Log } from '../log.ts';
import { GroupCommit } from '../storage/group-commit.ts';
import { StorageHealth } from '../storage/health.ts';
import type { Storage } from '../storage/storage.ts';
import { Relations } from '../social/relations.ts';
import { SettingsStore } from '../social/settings.ts';
import { AcceptPath } from './accept.ts';
import { AcceptChecks } from './accept-checks.ts';
import { DEFAULT_AWARENESS_LIMITS, type AwarenessLimits } from './awareness.ts';
import { UserCaps } from './caps.ts';
import { Connection, type Outlet, type UpdateSink } from './connection.ts';
import { HubEvents, type HubObserver, type MessageWrites } from './events.ts';
import { History } from './history.ts';
import { InboxProjection } from './inbox-projection.ts';
import type { DropCode, LiveDoc } from './live-doc.ts';
import { LoadedConversations } from './loaded.ts';
import { Presence } from './presence.ts';
import { Recalls } from './recall.ts';
import { DocRegistry, type Placement } from './registry.ts';
import { SendGate, type SendCheck } from './send-gate.ts';
import { ServerWrites } from './server-writes.ts';
import { MemoryWriteRate, type WriteRate } from './write-rate.ts';

export interface HubOptions {
  /** How long after sending a sender may recall a message (PARLEY_RECALL_WINDOW_MS). */
  recallWindowMs?: number;
  /** How many messages one user may hide, and star, in their prefs (PARLEY_MAX_MARKED_MESSAGES). */
  maxMarkedMessages?: number;
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
  /**
   * New messages, edits, reactions and actions per user: per second and at
   * once (PARLEY_MESSAGE_RATE, PARLEY_MESSAGE_BURST); `buckets` keeps the
   * tokens (this process's memory by default; a cluster passes buckets
   * shared with the other processes, cluster/write-rate.ts).
   */
  writeRate?: { rate: number; burst: number; buckets?: WriteRate };
  /** The sockets' frame limit (PARLEY_MAX_FRAME_BYTES), which each connection is told with the limits above. */
  maxFrameBytes?: number;
  /** Whether the storage takes writes, and how it is probed after a failed commit (storage/health.ts); by default probed each second with no free-space check. */
  health?: StorageHealth;
  /** The group commit's window, µs (PARLEY_COMMIT_WINDOW_US); 0 by default. */
  commitWindowUs?: number;
}

/** The defaults of PARLEY_MAX_UPDATE_BYTES and PARLEY_MAX_UPDATE_STRUCTS (config.ts says why). */
export const DEFAULT_UPDATE_BUDGET: UpdateBudget = { maxBytes: DEFAULT_SYNC_LIMITS.maxUpdateBytes, maxStructs: DEFAULT_SYNC_LIMITS.maxUpdateStructs };

/** The cluster's part in the hub (cluster/replicas.ts): where documents stand, and where writes go. */
export interface ClusterPart extends Placement, UpdateSink {
  /** A connection closed: answers to its forwarded writes have nowhere to go. */
  closed(connection: Connection): void;
}

export type OpenResult = { ok: true; connection: Connection } | { ok: false; code: ErrorCode };

export class SyncHub {
  readonly commit: GroupCommit;
  /** Whether the storage takes writes (GET /api/v1/ready reports it). */
  readonly health: StorageHealth;
  readonly registry: DocRegistry;
  readonly settings: SettingsStore;
  readonly relations: Relations;
  /** The accept path; `permit` answers for admin sends too. */
  readonly accept: AcceptPath;
  /** Admin sends and imports. */
  readonly writes: ServerWrites;
  /** Admin recalls. */
  readonly recalls: Recalls;
  /** History and segment queries. */
  readonly history: History;
  /** Inbox entries, unread counts, relations and profiles. */
  readonly inboxes: InboxProjection;
  private readonly events: HubEvents;
  private readonly loadedConversations: LoadedConversations;
  private readonly presence: Presence;
  private readonly caps: UserCaps;
  /** Where connections' updates go: `judging`, or in a cluster the replicas, which forward a follower's to its leader's. */
  private sink: UpdateSink;
  /** Where updates are judged: the accept path, behind the before-send gate when it is on. */
  private judged: UpdateSink;
  private cluster: ClusterPart | null = null;
  /** What each connection is told at open, so that its client sends in pieces the server takes. */
  private readonly limits: Extract<ControlFrame, { type: 'limits' }>;

  constructor(
    storage: Storage,
    unloadAfterMs: number,
    private readonly log: Log,
    options: HubOptions = {},
  ) {
    const updateBudget = options.updateBudget ?? DEFAULT_UPDATE_BUDGET;
    const burst = options.writeRate?.burst ?? DEFAULT_SYNC_LIMITS.writeBurst;
    this.limits = {
      type: 'limits',
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_SYNC_LIMITS.maxFrameBytes,
      maxUpdateBytes: updateBudget.maxBytes,
      maxUpdateStructs: updateBudget.maxStructs,
      writeBurst: burst,
    };
    this.caps = new UserCaps(options.maxSocketsPerUser ?? Infinity, options.maxDocsPerUser ?? Infinity);
    this.settings = new SettingsStore(storage);
    this.relations = new Relations(storage, this.settings);
    this.relations.onChange = (users) => {
      this.presence.changed(users);
      for (const user of users) void this.inboxes.reflectRelations(user);
    };
    this.health = options.health ?? new StorageHealth(storage, { retryMs: 1000, resumeFreeBytes: 0 }, log);
    this.commit = new GroupCommit(storage, this.health, options.commitWindowUs ?? 0);
    this.commit.beforeFlush(() => this.inboxes.flush());
    this.registry = new DocRegistry(
      storage,
      this.commit,
      unloadAfterMs,
      { loaded: (l) => this.loaded(l), unloaded: (l) => this.unloaded(l), failed: (l, code) => this.failed(l, code) },
      log,
    );
    this.events = new HubEvents(log);
    this.loadedConversations = new LoadedConversations(storage, this.relations);
    this.presence = new Presence(this.relations, options.awareness ?? DEFAULT_AWARENESS_LIMITS);
    this.presence.privacyOf = (user) => this.loadedConversations.privacy.get(user);
    this.presence.onLastSeen = (user, ts) => {
      storage.updateUser(user, { lastSeen: ts }).catch((err: unknown) => log.warn({ err, user }, 'last-seen time not stored'));
    };
    this.inboxes = new InboxProjection(storage, this.registry, this.commit, this.relations, this.loadedConversations, log);
    this.history = new History(storage, this.registry, this.commit);
    this.recalls = new Recalls(storage, this.registry, this.commit, this.history, this.loadedConversations, this.events);
    this.writes = new ServerWrites(this.registry, this.commit, this.loadedConversations, this.inboxes, this.events);
    const checks = new AcceptChecks(log, this.commit, this.presence, {
      storageFull: options.storageFull ?? (() => false),
      updateBudget,
      writeRate: options.writeRate?.buckets ?? new MemoryWriteRate(options.writeRate?.rate ?? 5, burst),
    });
    const parts = { log, settings: this.settings, relations: this.relations, checks, loaded: this.loadedConversations, inboxes: this.inboxes, recalls: this.recalls, events: this.events };
    this.accept = new AcceptPath(parts, {
      recallWindowMs: options.recallWindowMs ?? LIMITS.recallWindowMs,
      maxMarkedMessages: options.maxMarkedMessages ?? LIMITS.hiddenMessages,
      tsWindow: options.tsWindow ?? { maxSkewMs: LIMITS.maxClockSkewMs, maxAgeMs: LIMITS.maxMessageAgeMs },
    });
    this.judged = this.accept;
    this.sink = this.accept;
  }

  /** Where this process judges updates (its own, and in a cluster those forwarded to it). */
  get judging(): UpdateSink {
    return this.judged;
  }

  /**
   * Asks `check` about each new message of a client's update before the
   * accept path judges it (send-gate.ts), which answers within
   * `answerWithinMs`; before the first document opens,
   * and before joinCluster, whose replicas judge through it.
   */
  askBeforeSend(check: SendCheck, answerWithinMs: number): void {
    if (this.cluster !== null) throw new Error('askBeforeSend comes before joinCluster');
    this.judged = new SendGate(this.accept, check, this.log, this.limits.writeBurst, answerWithinMs);
    this.sink = this.judged;
  }

  /** Makes this hub one process of a cluster (cluster/); before the first document opens. */
  joinCluster(cluster: ClusterPart): void {
    this.cluster = cluster;
    this.registry.placement = cluster;
    this.sink = cluster;
  }

  observe(observer: HubObserver): void {
    this.events.observe(observer);
  }

  /** Adds `writes` to the transaction of every message accepted from now on. */
  alsoWrite(writes: MessageWrites): void {
    this.events.alsoWrite(writes);
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
    if (parsed.kind === 'conversation' && !(await this.loadedConversations.exists(parsed.a === user ? parsed.b : parsed.a))) return { ok: false, code: 'user-not-found' };
    const refused = this.caps.take(user, path);
    if (refused !== null) return { ok: false, code: refused };
    let live: LiveDoc;
    try {
      live = await this.registry.acquire(path);
    } catch (error) {
      this.caps.letGo(user, path);
      throw error;
    }
    const connection = new Connection(live, user, device, out, this.sink, this.log, closeWith);
    connection.start(this.limits);
    if (parsed.kind === 'conversation') connection.sendControl(this.presence.peerFrame(user, parsed.a === user ? parsed.b : parsed.a));
    if (parsed.kind === 'inbox') {
      this.presence.connected(user, device);
      this.loadedConversations.privacyOfUser(user).then(
        (privacy) => connection.sendControl({ type: 'privacy', ...privacy }),
        (err: unknown) => this.log.warn({ err, user }, 'privacy settings not read for an inbox socket'),
      );
    }
    return { ok: true, connection };
  }

  /**
   * Lets go of a connection's document, at once: its presence (awareness,
   * typing) leaves the peers, the device goes offline for push once its last
   * inbox connection is gone, and the user's slot is free.
   */
  detach(connection: Connection): void {
    connection.close();
    this.cluster?.closed(connection);
    if (connection.live.parsed.kind === 'inbox') this.presence.disconnected(connection.user, connection.device);
    this.caps.letGo(connection.user, connection.live.path);
    this.registry.release(connection.live);
  }

  /** Another process of the cluster changed these users' relations: the copies here follow, and presence with them. */
  async relationsChangedElsewhere(users: readonly string[]): Promise<void> {
    await this.relations.changedElsewhere(users);
    this.presence.changed([...users]);
  }

  /** Another process of the cluster changed a profile: the cache of loaded conversations follows. */
  /** An account was deleted (auth/deletion.ts): its loaded conversations take no new message to or from it, here and (a cluster) on every process. */
  accountDeleted(user: string): void {
    this.loadedConversations.accountDeleted(user);
    this.onAccountDeleted(user);
  }

  /** Told of each account deleted through this process (the cluster passes it on). */
  onAccountDeleted: (user: string) => void = () => undefined;

  /** Another process deleted an account. */
  accountDeletedElsewhere(user: string): void {
    this.loadedConversations.accountDeleted(user);
  }

  profileChangedElsewhere(profile: Parameters<LoadedConversations['profileChanged']>[0]): void {
    this.loadedConversations.profileChanged(profile);
  }

  /** Presence across processes (cluster/): devices going online here, and those online elsewhere. */
  get online(): Pick<Presence, 'onOnline' | 'elsewhere' | 'onlineHere' | 'elsewhereChanging'> {
    return this.presence;
  }

  /** Hears each privacy change made here (a cluster tells the other processes). */
  onPrivacy: (user: string, privacy: Privacy) => void = () => undefined;

  /**
   * `user` changed their privacy settings (stored already): the conversations
   * loaded here judge receipts and presence by them from now on, and every
   * socket that shows them hears it.
   */
  privacyChanged(user: string, privacy: Privacy): void {
    this.privacyChangedElsewhere(user, privacy);
    this.onPrivacy(user, privacy);
  }

  /** A user's privacy settings (from memory while a conversation of theirs is loaded). */
  privacyOf(user: string): Promise<Privacy> {
    return this.loadedConversations.privacyOfUser(user);
  }

  /** Another process of the cluster changed a user's privacy settings. */
  privacyChangedElsewhere(user: string, privacy: Privacy): void {
    this.loadedConversations.privacyChanged(user, { privacy });
    this.presence.privacyChanged(user, privacy);
  }

  /** What `user` holds open now: sockets, and distinct documents (the caps count these). */
  heldBy(user: string): { sockets: number; docs: number } {
    return this.caps.heldBy(user);
  }

  /** How many entries the per-peer caches hold (tests, metrics): each must follow what is loaded, not everyone ever named. */
  cacheSizes(): { lastSeq: number; profiles: number; relations: number } {
    return { lastSeq: this.loadedConversations.lastSeq.size, profiles: this.loadedConversations.profiles.size, relations: this.relations.size };
  }

  /** The devices of `user` with an open inbox socket. */
  devicesOnline(user: string): string[] {
    return this.presence.devicesOnline(user);
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
   * - the inbox entries not yet written (InboxProjection.clear): each was noted for a
   *   message queued behind the failed batch, so failed with it.
   *
   * A conversation's inboxes need not go with it: their entries for its
   * failed messages were written in the same batch or behind it (so they
   * failed and report it), or were still unrecorded.
   */
  private failed(live: LiveDoc, code: DropCode): void {
    if (code === 'internal') {
      this.registry.reset(live, code);
      return;
    }
    this.inboxes.clear();
    // Documents still loading too: one may have read the forgotten `lastSeq` already.
    const inMemory = this.registry.inMemory();
    const drop = new Set<LiveDoc>([live]);
    const work = [live];
    for (let doc = work.pop(); doc !== undefined; doc = work.pop()) {
      const path = doc.parsed;
      const next: LiveDoc[] = [];
      if (path.kind === 'conversation') {
        const conversation = conversationId(path.a, path.b);
        this.loadedConversations.lastSeq.delete(conversation);
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

  /** A conversation keeps both inboxes, its sequence and both profiles at hand, so accepting never waits for storage. */
  private async loaded(live: LiveDoc): Promise<void> {
    this.presence.prepare(live);
    const path = live.parsed;
    if (path.kind !== 'conversation') return;
    // Counted before the first await, so that nothing of it is evicted while it loads.
    this.loadedConversations.keep(path);
    try {
      await this.settings.load();
      await this.relations.load(path.a);
      await this.relations.load(path.b);
      await this.loadedConversations.loadSeq(conversationId(path.a, path.b), live.replication?.role === 'leader');
      // Only accounts that exist are cached: `profiles` is also a record of who exists (see exists()).
      for (const member of [path.a, path.b]) await this.loadedConversations.cacheProfile(member);
      live.dependencies = [await this.registry.acquire(inboxPath(path.a)), await this.registry.acquire(inboxPath(path.b))];
    } catch (error) {
      this.loadedConversations.forget(path);
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
    this.presence.watch(live);
  }

  private unloaded(live: LiveDoc): void {
    this.presence.unloaded(live);
    if (live.parsed.kind === 'conversation') this.loadedConversations.forget(live.parsed);
    for (const dependency of live.dependencies) this.registry.release(dependency);
    live.dependencies = [];
  }

  async close(): Promise<void> {
    await this.commit.idle();
    this.health.close();
    await this.registry.closeAll();
  }
}
