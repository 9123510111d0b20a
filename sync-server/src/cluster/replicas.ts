/**
 * Documents in a cluster: any process holds a copy of any document its
 * clients open, and one process leads each document whose clients write
 * (conversations, prefs): it alone validates, stamps and commits their
 * writes, so no update is judged against a stale copy and sequence stamps
 * stay unique and increasing. An inbox, which only the server writes, is
 * shared: any process writes it (its own Yjs client id), Yjs merges.
 *
 *   open on any process → `prepare`: listen on the document's channel, then
 *     try its lease (cluster/leases.ts): leader, or follower of the process
 *     that holds it; then read it from storage
 *   client update on a follower → forwarded to the leader's channel with
 *     the writer's user → the leader's accept path judges it, commits it
 *   every durable update → published on the document's channel → every
 *     other copy applies it and hands it to its own sockets
 *   the leader's `ack`/`reject` → published to the follower's channel, after
 *     the update (one publisher, so in that order) → the writer's socket
 *   presence (awareness) announced on any process → published; every copy
 *     applies it, and each socket hears what it may see (blocks hide)
 *
 * A leader that dies loses its lease with its lock connection; each follower
 * sweeps the leases of the documents it follows every PARLEY_CLUSTER_SWEEP_MS
 * and takes the free ones, and a process that takes or loses a lease drops
 * its copy (`doc-moved`): its sockets reconnect and sync again with a copy
 * read afresh from storage under the new lease. A write the old leader never
 * answered is sent again by its client on that reconnect; one it committed
 * is in storage (its fencing token kept any later commit of it out).
 */
import type { ControlFrame, DocPath, ErrorCode } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Connection, UpdateSink, Writer } from '../sync/connection.ts';
import { LedElsewhereError, type LiveDoc, type Replication } from '../sync/live-doc.ts';
import type { DocRegistry, Placement } from '../sync/registry.ts';
import type { Bus } from './bus.ts';
import type { DocLeases } from './leases.ts';

/** What a document's channel carries: the first byte says which, then the publishing node's id (16 hex digits), then the bytes. */
const UPDATE = 0;
const AWARENESS = 1;
/** The leader let go of the lease (its copy unloaded): followers take it at once instead of at their next sweep. */
const RELEASED = 2;
const NODE_BYTES = 16;

/** What goes to one process's own channel. */
type NodeMessage =
  /** A client's update on a follower, for the leader to judge. */
  | { t: 'submit'; path: string; from: string; conn: number; user: string; update: string }
  /** The leader's answer to a forwarded update, for the writer's socket. */
  | { t: 'control'; conn: number; frame: ControlFrame }
  /** The process asked leads the document no more: the follower drops its copy. */
  | { t: 'moved'; path: string }
  /** A server write (an admin send, a recall) for the leader of `path` to make. */
  | { t: 'call'; id: number; from: string; path: string; op: string; args: unknown[] }
  | { t: 'answer'; id: number; ok: true; value: unknown }
  | { t: 'answer'; id: number; ok: false; code: ErrorCode; message: string };

/** How many times a follower that knows no leader reads it, backing off, before it drops its copy. */
const LOOKUPS = 5;

/** How long a server write forwarded to a leader may take before it is refused `doc-moved` (the caller may try again). */
const CALL_TIMEOUT_MS = 10_000;

/** A server write that the leader of a document runs (registered by cluster.ts). */
export type LeaderCall = (...args: never[]) => Promise<unknown>;

interface Entry {
  path: string;
  replication: Replication;
  /** Null while it loads; what its channel carried meanwhile waits in `early`, and (a leader) what followers forwarded in `submits`. */
  live: LiveDoc | null;
  early: Buffer[];
  submits: Extract<NodeMessage, { t: 'submit' }>[];
  /** The leader's node id, for a follower (null: unknown; the next write or sweep reads it again). */
  leader: string | null;
  /**
   * Writes waiting for the leader to be read again (it was unknown: the lease
   * was taken by a process that had not yet written itself down as leader);
   * while set, every write of the copy waits behind it, so they reach the
   * leader in the order they came.
   */
  lookup: Promise<void> | null;
  unsubscribe: () => void;
}

export interface ReplicaOptions {
  /** How often a follower checks whether its documents' leaders are still there (PARLEY_CLUSTER_SWEEP_MS). */
  sweepMs: number;
}

export class Replicas implements Placement, UpdateSink {
  private readonly entries = new Map<Replication, Entry>();
  /** The connections here whose writes went to a leader elsewhere, by the number the leader answers with. */
  private readonly writers = new Map<number, Writer>();
  private readonly writerIds = new WeakMap<Writer, number>();
  private nextWriter = 1;
  private readonly calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private nextCall = 1;
  private readonly handlers = new Map<string, LeaderCall>();
  private readonly sweeper: NodeJS.Timeout;
  private sweeping = false;
  private readonly stopListening: () => void;

  constructor(
    private readonly bus: Bus,
    private readonly leases: DocLeases,
    private readonly registry: DocRegistry,
    /** The accept path: where a leader's writes, and those forwarded to it, are judged. */
    private readonly accept: UpdateSink,
    private readonly log: Log,
    options: ReplicaOptions,
  ) {
    this.stopListening = bus.subscribe(`node:${bus.node}`, (message) => this.onNodeMessage(JSON.parse(message.toString()) as NodeMessage));
    bus.onResync(() => this.dropAll('redis was away'));
    this.sweeper = setInterval(() => void this.sweep(), options.sweepMs);
    this.sweeper.unref();
  }

  /** The lease connection ended: nothing is led here any more. */
  leasesLost(): void {
    this.dropAll('the lease connection ended', (entry) => entry.replication.role === 'leader');
  }

  async prepare(path: string, parsed: DocPath): Promise<Replication> {
    const replication: Replication = {
      role: 'shared',
      fence: null,
      published: (update) => this.bus.publish(channelOf(path), frame(UPDATE, this.bus.node, update)),
      announced: (update) => this.bus.publish(channelOf(path), frame(AWARENESS, this.bus.node, update)),
    };
    const entry: Entry = { path, replication, live: null, early: [], submits: [], leader: null, lookup: null, unsubscribe: () => undefined };
    // Listening before the lease and the read: nothing committed after the read can be missed.
    entry.unsubscribe = this.bus.subscribe(channelOf(path), (message) => {
      if (entry.live === null) entry.early.push(message);
      else this.onDocMessage(entry, message);
    });
    this.entries.set(replication, entry);
    try {
      await this.bus.subscribed(channelOf(path));
      if (parsed.kind === 'inbox') return replication;
      const lease = await this.leases.tryLead(path);
      if (lease !== null) {
        replication.role = 'leader';
        replication.fence = lease.token;
      } else {
        replication.role = 'follower';
        entry.leader = await this.leases.leaderOf(path);
      }
    } catch (error) {
      this.detached(path, replication);
      throw error;
    }
    return replication;
  }

  attached(live: LiveDoc): void {
    const entry = live.replication === null ? undefined : this.entries.get(live.replication);
    if (entry === undefined) return;
    entry.live = live;
    for (const message of entry.early.splice(0)) this.onDocMessage(entry, message);
    for (const message of entry.submits.splice(0)) this.judge(live, message);
  }

  detached(path: string, replication: Replication): void {
    const entry = this.entries.get(replication);
    if (entry === undefined) return;
    this.entries.delete(replication);
    entry.unsubscribe();
    // Forwarded while it loaded, and it never did: their followers drop their copies, and the clients send again.
    for (const from of new Set(entry.submits.splice(0).map((m) => m.from))) this.bus.publish(`node:${from}`, JSON.stringify({ t: 'moved', path } satisfies NodeMessage));
    if (replication.role !== 'leader') return;
    // A copy loaded again meanwhile under the same lease keeps it.
    for (const other of this.entries.values()) if (other.path === path && other.replication.role === 'leader') return;
    void this.leases.release(path).then(() => this.bus.publish(channelOf(path), frame(RELEASED, this.bus.node, new Uint8Array(0))));
  }

  /** A client's update: judged here when this process leads (or shares) the document, forwarded to its leader otherwise. */
  submit(live: LiveDoc, connection: Writer, update: Uint8Array): void {
    const entry = live.replication === null ? undefined : this.entries.get(live.replication);
    if (entry?.replication.role !== 'follower') {
      this.accept.submit(live, connection, update);
      return;
    }
    if (entry.leader === null || entry.lookup !== null) {
      this.afterLookup(entry, live, connection, update);
      return;
    }
    this.forward(entry, live, connection, update);
  }

  /** Reads the leader again (a few times), then forwards; with no leader still, drops the copy (the reload tries the lease). */
  private afterLookup(entry: Entry, live: LiveDoc, connection: Writer, update: Uint8Array): void {
    const lookup = (entry.lookup ?? Promise.resolve())
      .then(async () => {
        // The lease holder writes itself down in the statement that takes the lock (leases.ts), so it is named
        // soon; five reads over 375 ms (25, 50, 100, 200 ms apart) before the copy is given up.
        for (let attempt = 0; entry.leader === null && !live.destroyed; attempt++) {
          const leader = await this.leases.leaderOf(entry.path);
          entry.leader = leader === this.bus.node ? null : leader;
          if (entry.leader !== null || attempt === LOOKUPS - 1) break;
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        }
      })
      .then(
        () => {
          if (live.destroyed) return;
          if (entry.leader === null) this.registry.reset(live, 'doc-moved');
          else this.forward(entry, live, connection, update);
        },
        (error: unknown) => {
          this.log.warn({ err: error, doc: entry.path }, 'cluster: the leader of a document could not be read');
          if (!live.destroyed) this.registry.reset(live, 'doc-moved');
        },
      );
    entry.lookup = lookup;
    void lookup.then(() => {
      if (entry.lookup === lookup) entry.lookup = null;
    });
  }

  private forward(entry: Entry, live: LiveDoc, connection: Writer, update: Uint8Array): void {
    let id = this.writerIds.get(connection);
    if (id === undefined) {
      id = this.nextWriter++;
      this.writerIds.set(connection, id);
      this.writers.set(id, connection);
    }
    const message: NodeMessage = { t: 'submit', path: live.path, from: this.bus.node, conn: id, user: connection.user, update: Buffer.from(update).toString('base64') };
    this.bus.publish(`node:${entry.leader}`, JSON.stringify(message));
  }

  /** Names a server write that a follower may ask a document's leader to make (`onLeader`). */
  handle(op: string, run: LeaderCall): void {
    this.handlers.set(op, run);
  }

  /**
   * Runs server write `op` here, or, when it writes a document led by
   * another process (LedElsewhereError), on that process: its answer, or
   * its refusal. One hop only: the leader runs it as its own.
   */
  async onLeader<T>(op: string, args: unknown[]): Promise<T> {
    const run = this.handlers.get(op) as ((...a: unknown[]) => Promise<T>) | undefined;
    if (run === undefined) throw new Error(`no cluster call named ${op}`);
    try {
      return await run(...args);
    } catch (error) {
      if (!(error instanceof LedElsewhereError)) throw error;
      return (await this.call(error.path, op, args)) as T;
    }
  }

  private async call(path: string, op: string, args: unknown[]): Promise<unknown> {
    let leader: string | null = null;
    for (const entry of this.entries.values()) if (entry.path === path && entry.leader !== null) leader = entry.leader;
    leader ??= await this.leases.leaderOf(path);
    if (leader === null) throw new Refusal('doc-moved');
    const id = this.nextCall++;
    // JSON would send a trailing undefined (a default argument) as null, which is not the default.
    const sent = [...args];
    while (sent.length > 0 && sent.at(-1) === undefined) sent.pop();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Refusal('doc-moved', `the leader of ${path} did not answer`));
      }, CALL_TIMEOUT_MS);
      this.calls.set(id, { resolve, reject, timer });
    });
    this.bus.publish(`node:${leader}`, JSON.stringify({ t: 'call', id, from: this.bus.node, path, op, args: sent } satisfies NodeMessage));
    return answer;
  }

  private answer(message: Extract<NodeMessage, { t: 'call' }>): void {
    const reply = (answer: NodeMessage): void => this.bus.publish(`node:${message.from}`, JSON.stringify(answer));
    const run = this.handlers.get(message.op) as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (run === undefined) {
      reply({ t: 'answer', id: message.id, ok: false, code: 'internal', message: `no cluster call named ${message.op}` });
      return;
    }
    run(...message.args).then(
      (value) => reply({ t: 'answer', id: message.id, ok: true, value: value ?? null }),
      (error: unknown) => {
        const code: ErrorCode = error instanceof Refusal ? error.code : error instanceof LedElsewhereError ? 'doc-moved' : 'internal';
        if (code === 'internal') this.log.error({ err: error, op: message.op }, 'cluster: a forwarded server write failed');
        reply({ t: 'answer', id: message.id, ok: false, code, message: error instanceof Error ? error.message : String(error) });
      },
    );
  }

  /** A connection here closed: the leader's answers to it have nowhere to go. */
  closed(connection: Connection): void {
    const id = this.writerIds.get(connection);
    if (id !== undefined) this.writers.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const call of this.calls.values()) {
      clearTimeout(call.timer);
      call.reject(new Refusal('doc-moved', 'this process is stopping'));
    }
    this.calls.clear();
    this.stopListening();
    for (const entry of this.entries.values()) entry.unsubscribe();
  }

  private onDocMessage(entry: Entry, message: Buffer): void {
    const live = entry.live;
    if (live === null || message.length < 1 + NODE_BYTES) return;
    if (message.toString('latin1', 1, 1 + NODE_BYTES) === this.bus.node) return;
    const body = new Uint8Array(message.buffer, message.byteOffset + 1 + NODE_BYTES, message.length - 1 - NODE_BYTES);
    switch (message[0]) {
      case UPDATE:
        live.applyReplicated(body);
        return;
      case AWARENESS:
        live.applyReplicatedAwareness(body);
        return;
      case RELEASED:
        if (entry.replication.role === 'follower') void this.sweep([entry]);
        return;
      default:
        this.log.warn({ doc: live.path, type: message[0] }, 'cluster: a document message of an unknown type was ignored');
    }
  }

  private onNodeMessage(message: NodeMessage): void {
    switch (message.t) {
      case 'submit': {
        const entry = this.leaderEntry(message.path);
        if (entry === undefined) {
          this.bus.publish(`node:${message.from}`, JSON.stringify({ t: 'moved', path: message.path } satisfies NodeMessage));
          return;
        }
        // Still loading here (a lease just taken): judged once it is loaded, in the order they came.
        if (entry.live === null) entry.submits.push(message);
        else this.judge(entry.live, message);
        return;
      }
      case 'control':
        this.writers.get(message.conn)?.sendControl(message.frame);
        return;
      case 'call':
        this.answer(message);
        return;
      case 'answer': {
        const call = this.calls.get(message.id);
        if (call === undefined) return;
        this.calls.delete(message.id);
        clearTimeout(call.timer);
        if (message.ok) call.resolve(message.value);
        else call.reject(new Refusal(message.code, message.message));
        return;
      }
      case 'moved':
        for (const entry of this.entries.values()) {
          if (entry.path === message.path && entry.replication.role === 'follower' && entry.live !== null) this.registry.reset(entry.live, 'doc-moved');
        }
        return;
    }
  }

  /** The copy here that leads `path`, loaded or loading. */
  private leaderEntry(path: string): Entry | undefined {
    for (const entry of this.entries.values()) if (entry.path === path && entry.replication.role === 'leader' && entry.live?.destroyed !== true) return entry;
    return undefined;
  }

  /** A follower's forwarded write, to the accept path; its answer goes back to the follower's socket. */
  private judge(live: LiveDoc, message: Extract<NodeMessage, { t: 'submit' }>): void {
    const writer: Writer = {
      user: message.user,
      origin: `${message.from}/${message.conn}`,
      sendControl: (frame) => this.bus.publish(`node:${message.from}`, JSON.stringify({ t: 'control', conn: message.conn, frame } satisfies NodeMessage)),
    };
    this.accept.submit(live, writer, new Uint8Array(Buffer.from(message.update, 'base64')));
  }

  /**
   * Takes the free leases of the documents followed here (their leader died
   * or let go). Each taken one's copy is dropped (its sockets reconnect) and
   * loaded again under the lease, read afresh from storage; it unloads as
   * usual when nobody opens it.
   */
  private async sweep(only?: Entry[]): Promise<void> {
    if (only === undefined) {
      if (this.sweeping) return;
      this.sweeping = true;
    }
    try {
      const followed = (only ?? [...this.entries.values()]).filter((e) => e.replication.role === 'follower' && e.live !== null && !e.live.destroyed);
      if (followed.length === 0) return;
      const { taken, leaders } = await this.leases.sweep([...new Set(followed.map((e) => e.path))]);
      // Led by another process than the one this copy forwards to (the old one died, a third took over): the
      // writes forwarded to the old one may be lost, so the copy is dropped and its writers send them again.
      for (const entry of followed) {
        const leader = leaders.get(entry.path);
        if (leader === undefined || leader === entry.leader || entry.live === null) continue;
        if (entry.leader === null) {
          // Unknown until now (its leader had not written itself down at the load): nothing was forwarded anywhere,
          // so the copy stays and forwards to it from now on; a write reading the leader meanwhile sets it itself.
          if (entry.lookup === null && leader !== null && leader !== this.bus.node) entry.leader = leader;
          continue;
        }
        this.log.info({ doc: entry.path, leader }, 'cluster: a document followed here has a new leader');
        this.registry.reset(entry.live, 'doc-moved');
      }
      for (const path of taken.keys()) {
        this.log.info({ doc: path, token: taken.get(path)?.token }, 'cluster: took the lease of a document whose leader is gone');
        for (const entry of followed) if (entry.path === path && entry.live !== null) this.registry.reset(entry.live, 'doc-moved');
        // Loaded again at once as its leader, and unloaded (letting go) if nobody comes back to it.
        this.registry.acquire(path).then(
          (live) => this.registry.release(live),
          (error: unknown) => this.log.warn({ err: error, doc: path }, 'cluster: a document taken over could not be loaded'),
        );
      }
    } catch (error) {
      this.log.warn({ err: error }, 'cluster: the lease sweep failed');
    } finally {
      if (only === undefined) this.sweeping = false;
    }
  }

  /** Drops every copy (or those `which` picks): their sockets reconnect, and each loads again from storage. */
  private dropAll(why: string, which: (entry: Entry) => boolean = () => true): void {
    const lives = [...this.entries.values()].filter(which).flatMap((e) => (e.live === null ? [] : [e.live]));
    this.log.warn({ docs: lives.length, why }, 'cluster: dropping document copies; their sockets reconnect');
    for (const live of lives) this.registry.reset(live, 'doc-moved');
  }
}

const channelOf = (path: string): string => `doc:${path}`;

function frame(type: number, node: string, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + NODE_BYTES + body.length);
  out[0] = type;
  out.write(node, 1, NODE_BYTES, 'latin1');
  out.set(body, 1 + NODE_BYTES);
  return out;
}
