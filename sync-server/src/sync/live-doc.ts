/**
 * A document loaded in memory: its Y.Doc, its awareness, its connections, and
 * the one write path (`write`): a change runs in one Yjs transaction, the
 * merged update it produced is queued in the group commit with the change's
 * SQL side effects, and only after the commit is it broadcast.
 *
 * Nothing undurable may outlive a failure. A write is applied in memory
 * before its commit, so when the commit fails (or an update throws half-way
 * through being applied) the document holds what storage does not: it
 * reports `failed`, and its owner (sync/registry.ts `reset`) drops it from
 * memory at once, without compacting it, and closes its connections before
 * anything more is sent; the next reader loads it again from storage. While
 * the storage is in fault nothing is applied at all (the group commit says
 * so before the change runs).
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { claimOf, integrateDecoded, SERVER_CLAIM, SERVER_ROOTS, type ControlFrame, type DecodedUpdate, type DocPath, type ErrorCode } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import { StorageFaultError, type StorageFaultCode } from '../storage/health.ts';
import { FencedError, type StoredDoc, type Write } from '../storage/storage.ts';
import { Presence, type PresencePeer } from './awareness.ts';
import { awarenessMessage, syncUpdateMessage } from './frames.ts';
import { mergeParts, type Part } from './merge.ts';

/** A connection as a document sees it: a user to send bytes to. */
export interface Peer extends PresencePeer {
  send(bytes: Uint8Array): void;
  /** A control frame to this socket's client (presence: `peer`, `privacy`). */
  sendControl(frame: ControlFrame): void;
  /**
   * The document left memory after a failure (`code`): send nothing more of
   * it, tell the client, and close, so that it syncs again from storage.
   */
  drop(code: ErrorCode): void;
}

/**
 * Why a document holding what storage does not is dropped: its commit failed
 * (a storage fault), an update threw half-way (`internal`), or, in a
 * cluster, its commit was fenced: another process leads it now (`doc-moved`).
 */
export type DropCode = StorageFaultCode | 'internal' | 'doc-moved';

/** What a document tells its owner (sync/registry.ts). */
export interface LiveDocEvents {
  /** A write of it is durable. */
  committed(live: LiveDoc): void;
  /**
   * It holds what storage does not (a commit failed: `storage-full` or
   * `storage-unavailable`; an update threw half-way through: `internal`):
   * drop it from memory now, before anything more is served from it.
   */
  failed(live: LiveDoc, code: DropCode): void;
}

/** A client's update that Yjs could not apply whole: the document was dropped (it may hold part of it), and the update is refused `internal`. */
export class ApplyFailedError extends Error {
  constructor(cause: unknown) {
    super(`the update could not be applied: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ApplyFailedError';
  }
}

/**
 * A write to a document this process follows in a cluster: only its leader
 * writes it, so the operation must run there (cluster/ forwards it).
 */
export class LedElsewhereError extends Error {
  constructor(readonly path: string) {
    super(`${path} is led by another process of the cluster`);
    this.name = 'LedElsewhereError';
  }
}

const SERVER_ORIGIN = Symbol('parley-server');
/** The origin of what another process of the cluster wrote or announced (cluster/replicas.ts): it is not published again. */
export const REPLICA_ORIGIN = Symbol('parley-replica');

/**
 * How a document takes part in a cluster (cluster/replicas.ts); a lone
 * process leaves it unset. `leader`: this process validates, stamps and
 * commits its writes, under `fence`; `follower`: another process does, and
 * this one forwards client writes to it and applies what it publishes;
 * `shared`: a document only the server writes (an inbox), which every process
 * may write (Yjs merges), and whose every write is published.
 */
export interface Replication {
  role: 'leader' | 'follower' | 'shared';
  /** The leader's fencing token (DocStore.lead), carried by each of its commits. */
  fence: number | null;
  /** Hears each update of this document once it is durable, to publish it. */
  published(update: Uint8Array): void;
  /** Hears each awareness change announced here (not one applied from another process), to publish it. */
  announced(update: Uint8Array): void;
}

export class LiveDoc {
  readonly doc = new Y.Doc();
  readonly awareness: awarenessProtocol.Awareness;
  /** The way into and out of `awareness` for connections (limits, ownership, who sees whom). */
  readonly presence: Presence;
  readonly connections = new Set<Peer>();
  /** Holders (connections, dependent documents, server tasks); unloaded after the last lets go. */
  refs = 0;
  unloadTimer: NodeJS.Timeout | undefined;
  /** Documents this one keeps loaded (a conversation keeps both members' inboxes). */
  dependencies: LiveDoc[] = [];
  /** The newest log row id committed for this document: what a snapshot may claim to cover. */
  lastId: number;
  /** Log rows not yet compacted. */
  logLength: number;
  /** Writes queued and not yet committed. */
  pending = 0;
  destroyed = false;
  /** Cluster only (cluster/replicas.ts): set before the document is handed out. */
  replication: Replication | null = null;
  private tail: Promise<void> = Promise.resolve();
  /** The last write queued: settles with `lastId` as of its commit (or fails with it). */
  private lastQueued: Promise<number> = Promise.resolve(0);

  constructor(
    readonly path: string,
    readonly parsed: DocPath,
    stored: StoredDoc,
    private readonly commit: GroupCommit,
    private readonly log: Log,
    private readonly events: LiveDocEvents,
  ) {
    Y.transact(this.doc, () => {
      if (stored.snapshot !== null) Y.applyUpdate(this.doc, stored.snapshot);
      for (const u of stored.updates) Y.applyUpdate(this.doc, u.data);
    });
    this.lastId = stored.lastId;
    this.logLength = stored.updates.length;
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    // The server has no presence of its own.
    this.awareness.setLocalState(null);
    this.presence = new Presence(this.awareness);
    // Each connection hears of the states it may see (sync/awareness.ts).
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const changed = [...added, ...updated, ...removed];
      if (origin !== REPLICA_ORIGIN && this.replication !== null && changed.length > 0) {
        this.replication.announced(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
      }
      for (const peer of this.connections) {
        if (peer === origin) continue;
        const update = this.presence.updateFor(peer, changed);
        if (update !== null) peer.send(awarenessMessage(update));
      }
    });
  }

  /**
   * Applies an update another process of the cluster committed (its leader,
   * or any for a shared document) and hands it to every connection here.
   */
  applyReplicated(update: Uint8Array): void {
    if (this.destroyed) return;
    Y.applyUpdate(this.doc, update, REPLICA_ORIGIN);
    this.broadcast(syncUpdateMessage(update));
  }

  /** Applies presence another process announced; each connection here hears what it may see. */
  applyReplicatedAwareness(update: Uint8Array): void {
    if (this.destroyed) return;
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REPLICA_ORIGIN);
  }

  broadcast(bytes: Uint8Array, except?: unknown): void {
    for (const peer of this.connections) if (peer !== except) peer.send(bytes);
  }

  /**
   * Settles once every write queued so far for this document is committed
   * (or failed: the document is then dropped, and its connections closed,
   * before this settles).
   */
  committed(): Promise<void> {
    return this.tail;
  }

  /**
   * The newest log row id that the state in memory now covers, once durable:
   * `lastId` at once if nothing is in flight, otherwise as of the commit of
   * the last write queued so far (later writes are not in a state encoded
   * now). Rejects if that write fails: a snapshot encoded now holds it, and
   * must not be stored (the document is dropped; see `failed`).
   */
  durableThrough(): Promise<number> {
    return this.pending === 0 ? Promise.resolve(this.lastId) : this.lastQueued;
  }

  /**
   * Runs `change` in one transaction of the server's document, then queues the
   * merged update it produced with `extra` in the group commit. Resolves after
   * the commit and the broadcast. `avoidClients`: client ids that this change
   * claims for a user, which the server itself must therefore not write with.
   * Rejects with a StorageFaultError, without running `change`, while the
   * storage is in fault.
   */
  write(change: () => void, extra: readonly Write[] = [], avoidClients: readonly number[] = []): Promise<void> {
    const refused = this.commit.refusing() ?? this.gone() ?? this.ledElsewhere();
    if (refused !== null) return Promise.reject(refused);
    this.ensureServerClientId(avoidClients);
    const update = this.capture(() => this.transactAsServer(change))?.update ?? null;
    return this.persist(update, extra, (bytes) => this.broadcast(bytes));
  }

  /**
   * Accepts a client's update from `sender`, as the validator decoded it
   * (applied from its structs, not decoded again): applies it in one
   * transaction and the server's own writes on it (`serverChange`: claims,
   * sequence stamps) in a second, and queues both, merged, as one log row with
   * `extra` in the group commit. After the commit every other connection gets
   * the merged update and `sender` only the server's part: it already has its
   * own. `avoidClients`: the client ids this update claims for its user.
   * `exactClients`: the update's client ids when it holds only structs the
   * document lacks, so that it is what applying it adds and need not be
   * encoded again; null when it must be. `erases`: the server's change
   * overwrites part of what the client wrote (a backend's rewrite,
   * sync/send-gate.ts), so the update stored and relayed is encoded from the
   * document after both transactions, where that part is garbage-collected:
   * what was erased reaches neither storage nor the peers.
   *
   * Throws, having applied nothing, a StorageFaultError while the storage is
   * in fault; throws ApplyFailedError when Yjs throws half-way through the
   * update (a gap in validation): the document reported `failed` and is
   * dropped, so what was half-applied goes with it.
   */
  accept(
    sender: object,
    clientUpdate: DecodedUpdate,
    serverChange: () => void,
    extra: readonly Write[],
    avoidClients: readonly number[],
    exactClients: readonly number[] | null = null,
    erases = false,
  ): Promise<void> {
    const refused = this.commit.refusing() ?? this.gone() ?? this.ledElsewhere();
    if (refused !== null) throw refused;
    this.ensureServerClientId(avoidClients);
    let applied: Part | null = null;
    let server: Part | null;
    let afresh: Uint8Array | null = null;
    try {
      if (erases) {
        const before = Y.encodeStateVector(this.doc);
        integrateDecoded(this.doc, clientUpdate, SERVER_ORIGIN);
        server = this.capture(() => this.transactAsServer(serverChange));
        afresh = Y.encodeStateAsUpdate(this.doc, before);
      } else {
        if (exactClients === null) applied = this.capture(() => integrateDecoded(this.doc, clientUpdate, SERVER_ORIGIN));
        else {
          // No 'update' listener, so Yjs does not encode this transaction at all.
          integrateDecoded(this.doc, clientUpdate, SERVER_ORIGIN);
          applied = { update: clientUpdate.bytes, clients: exactClients };
        }
        server = this.capture(() => this.transactAsServer(serverChange));
      }
    } catch (error) {
      this.log.error({ err: error, doc: this.path }, 'an accepted update could not be applied whole: the document is dropped from memory and the update refused (internal)');
      this.events.failed(this, 'internal');
      throw new ApplyFailedError(error);
    }
    const merged = afresh ?? (applied === null ? (server?.update ?? null) : server === null ? applied.update : mergeParts(applied, server));
    return this.persist(merged, extra, (bytes) => {
      for (const peer of this.connections) {
        if (peer !== sender) peer.send(bytes);
        else if (server !== null) peer.send(syncUpdateMessage(server.update));
      }
    });
  }

  /**
   * The update the transactions run by `run` produced (merged if several) and
   * the client ids it has structs of, or null if nothing changed.
   */
  private capture(run: () => void): Part | null {
    let merged: Part | null = null;
    const capture = (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
      const clients: number[] = [];
      for (const [client, clock] of transaction.afterState) if (clock > (transaction.beforeState.get(client) ?? 0)) clients.push(client);
      merged = merged === null ? { update, clients } : { update: Y.mergeUpdates([merged.update, update]), clients: [...new Set([...merged.clients, ...clients])] };
    };
    this.doc.on('update', capture);
    try {
      run();
    } finally {
      this.doc.off('update', capture);
    }
    return merged;
  }

  private transactAsServer(change: () => void): void {
    this.doc.transact((transaction) => {
      const before = Y.getState(this.doc.store, this.doc.clientID);
      change();
      // Applying a client's update marks the transaction remote, and Yjs then
      // takes a new client id when its own grew; here the server wrote under
      // its own (claimed) id on purpose, so keep it.
      transaction.local = true;
      // The server's own structs need a claim too, or a client could take its id.
      if (Y.getState(this.doc.store, this.doc.clientID) > before && claimOf(this.doc, this.doc.clientID) !== SERVER_CLAIM) {
        this.doc.getMap(SERVER_ROOTS.clients).set(String(this.doc.clientID), { user: SERVER_CLAIM });
      }
    }, SERVER_ORIGIN);
  }

  /**
   * Queues `update` (as one log row) and `extra` in the group commit; after
   * the commit, hands the update's sync frame to `deliver` (unless the
   * document was unloaded meanwhile).
   */
  private persist(update: Uint8Array | null, extra: readonly Write[], deliver: (bytes: Uint8Array) => void): Promise<void> {
    const writes: Write[] = update === null ? [...extra] : [{ kind: 'update', doc: this.path, data: update }, ...extra];
    if (writes.length === 0) return this.tail;
    const fence = this.replication?.fence ?? null;
    if (fence !== null) writes.push({ kind: 'fence', doc: this.path, token: fence });
    this.pending++;
    let durable: (upto: number) => void = () => undefined;
    let lost: (error: unknown) => void = () => undefined;
    const queued = new Promise<number>((resolve, reject) => {
      durable = resolve;
      lost = reject;
    });
    // Only durableThrough's callers wait on it; a failure is reported through `done`.
    queued.catch(() => undefined);
    this.lastQueued = queued;
    const done = this.commit.write(writes).then(
      (ids) => {
        this.pending--;
        if (update !== null) {
          this.lastId = Math.max(this.lastId, ids[0] ?? 0);
          this.logLength++;
          if (!this.destroyed) deliver(syncUpdateMessage(update));
          // Durable, so the other processes hear of it even if this copy was dropped meanwhile.
          this.replication?.published(update);
        }
        // Taken here, before the writes committed with it in the same batch settle.
        durable(this.lastId);
        this.events.committed(this);
      },
      (error: unknown) => {
        this.pending--;
        // The storage logs the fault once; every document that had a write in the failed batch, or behind it, is dropped.
        lost(error);
        this.events.failed(this, error instanceof StorageFaultError ? error.code : error instanceof FencedError ? 'doc-moved' : 'storage-unavailable');
        throw error;
      },
    );
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** A document out of memory takes no write: it would be stored from a copy nobody reads (after a reset, one that storage does not hold). */
  private gone(): Error | null {
    return this.destroyed ? new Error(`${this.path} is no longer loaded`) : null;
  }

  private ledElsewhere(): Error | null {
    return this.replication?.role === 'follower' ? new LedElsewhereError(this.path) : null;
  }

  /**
   * The server writes under its own client id, claimed as SERVER_CLAIM. If a
   * user already uses (or is about to claim) that id, the server takes another.
   */
  private ensureServerClientId(avoid: readonly number[]): void {
    const taken = (id: number): boolean => {
      const claim = claimOf(this.doc, id);
      return avoid.includes(id) || (claim !== undefined && claim !== SERVER_CLAIM) || (claim === undefined && this.doc.store.clients.has(id));
    };
    while (taken(this.doc.clientID)) this.doc.clientID = Math.floor(Math.random() * 0xffffffff) >>> 0;
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.unloadTimer);
    this.awareness.destroy();
    this.doc.destroy();
  }
}
