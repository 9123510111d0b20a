/**
 * Presence (y-protocols awareness: typing, which conversation a device shows)
 * is relayed, never stored. A document's `Presence` is the only way into its
 * awareness from a client, and the only way out of it to one:
 *
 * - a state holds known fields only (`here`, `typing`: a user id or null;
 *   `user` is set by the server to the connection's user, so nobody appears as
 *   someone else); other fields are dropped, and a state over the byte limit or
 *   of another shape is neither kept nor relayed;
 * - a client id belongs to the first connection that announced it, while that
 *   connection is open: no other connection (another user's, or another device
 *   of the same user) can overwrite or remove its state, and a connection
 *   announces a few client ids at most (a y-websocket client announces one);
 * - a connection's states go when it closes;
 * - each viewer gets only the states it may see (`hidden`: the hub hides the
 *   states of two users when one blocked the other). A state withdrawn from a
 *   viewer reads as that device leaving; a viewer is never sent anything that
 *   shows a state exists but is withheld.
 *
 * y-websocket clients echo every awareness update they receive back to the
 * server; those echoes carry another client's id at its current clock and are
 * ignored quietly, like any write to a client id the connection does not own.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import { LIMITS } from '@parley/protocol';
import { awarenessMessage } from './frames.ts';

/** What a client may put in its state; every field a user id or null. */
export const PRESENCE_FIELDS = ['here', 'typing'] as const;

export type PresenceField = (typeof PRESENCE_FIELDS)[number];

/** A state as the server keeps and relays it. */
export type PresenceState = { user: string } & Partial<Record<PresenceField, string | null>>;

export interface AwarenessLimits {
  /** The largest state a client may send, in bytes of its JSON (PARLEY_MAX_AWARENESS_BYTES). */
  maxBytes: number;
  /** Client ids one connection may announce (PARLEY_MAX_AWARENESS_CLIENTS). */
  maxClients: number;
}

export const DEFAULT_AWARENESS_LIMITS: AwarenessLimits = { maxBytes: 1024, maxClients: 4 };

/** A connection as presence sees it. */
export interface PresencePeer {
  readonly user: string;
  send(bytes: Uint8Array): void;
}

interface Entry {
  client: number;
  clock: number;
  /** Null: the client removed its state. */
  state: Record<string, unknown> | null;
}

/** Why a client's state was neither kept nor relayed. */
export type StateRefusal = 'too-large' | 'not-json' | 'wrong-shape';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an awareness update, checking each state: its size before parsing,
 * then its shape; known fields are kept, others dropped. Throws only when the
 * update itself cannot be decoded.
 */
export function readAwarenessUpdate(update: Uint8Array, maxBytes: number): { entries: Entry[]; refused: StateRefusal[] } {
  const d = decoding.createDecoder(update);
  const entries: Entry[] = [];
  const refused: StateRefusal[] = [];
  const count = decoding.readVarUint(d);
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(d);
    const clock = decoding.readVarUint(d);
    const raw = decoding.readVarUint8Array(d);
    if (raw.length > maxBytes) {
      refused.push('too-large');
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(raw));
    } catch {
      refused.push('not-json');
      continue;
    }
    const state = parsed === null ? null : knownFields(parsed);
    if (state === undefined) refused.push('wrong-shape');
    else entries.push({ client, clock, state });
  }
  return { entries, refused };
}

/** The known fields of a state, or undefined when it is no object or a known field holds something else than a user id or null. */
export function knownFields(state: unknown): Record<string, string | null> | undefined {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return undefined;
  const out: Record<string, string | null> = {};
  for (const field of PRESENCE_FIELDS) {
    if (!Object.hasOwn(state, field)) continue;
    const value = (state as Record<string, unknown>)[field];
    if (value !== null && (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.userIdLength)) return undefined;
    out[field] = value;
  }
  return out;
}

function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { client, clock, state } of entries) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}

/** The origin of the server's own re-announcements (after an unblock). */
const REANNOUNCE = Symbol('presence-reannounce');

export class Presence {
  limits: AwarenessLimits = DEFAULT_AWARENESS_LIMITS;
  /** Whether `owner`'s states are kept from `viewer` (set by the hub; same user: never asked). */
  hidden: (owner: string, viewer: string) => boolean = () => false;
  /** The connection that announced each client id, while it is open. */
  private readonly owners = new Map<number, PresencePeer>();
  /** Per connection: the client ids it announced. */
  private readonly owned = new Map<PresencePeer, Set<number>>();
  /** Per viewer: client ids whose states it holds none of because they are hidden from it. */
  private readonly withheld = new WeakMap<PresencePeer, Set<number>>();

  constructor(private readonly awareness: awarenessProtocol.Awareness) {}

  /**
   * Applies what a connection sent: the states of client ids it owns (or
   * claims now, while it has room), with `user` set to its user. Returns the
   * states refused for their size or shape (writes to others' client ids are
   * ignored without a word: clients echo them).
   */
  receive(from: PresencePeer, update: Uint8Array): StateRefusal[] {
    const { entries, refused } = readAwarenessUpdate(update, this.limits.maxBytes);
    const accepted: Entry[] = [];
    for (const entry of entries) {
      const owner = this.owners.get(entry.client);
      if (owner === undefined) {
        if (!this.claim(from, entry)) continue;
      } else if (owner !== from) continue;
      accepted.push({ ...entry, state: entry.state === null ? null : { ...entry.state, user: from.user } });
    }
    if (accepted.length > 0) awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeEntries(accepted), from);
    return refused;
  }

  /** Takes an unowned client id for `from` when the entry would be applied; false if it is not to be applied. */
  private claim(from: PresencePeer, { client, clock, state }: Entry): boolean {
    // Nothing to remove; and the server's own id is nobody's.
    if (state === null || client === this.awareness.clientID) return false;
    // An echo of a state already gone (or stale): applying it would change nothing.
    if (clock <= (this.awareness.meta.get(client)?.clock ?? 0)) return false;
    let mine = this.owned.get(from);
    if ((mine?.size ?? 0) >= this.limits.maxClients) return false;
    if (mine === undefined) this.owned.set(from, (mine = new Set()));
    mine.add(client);
    this.owners.set(client, from);
    return true;
  }

  /** The states `viewer` may see, for a new connection (null when there are none). */
  initialFor(viewer: PresencePeer): Uint8Array | null {
    const withheld = this.withheldFrom(viewer);
    const entries: Entry[] = [];
    for (const [client, state] of this.awareness.getStates()) {
      if (this.hides(client, state, viewer)) withheld.add(client);
      else entries.push({ client, clock: this.clockOf(client), state });
    }
    return entries.length === 0 ? null : encodeEntries(entries);
  }

  /**
   * What `viewer` is to hear of a change to `changed` (or, with `changed`
   * undefined, of every state: an answer to query-awareness): the states it
   * may see, and the removal of a state it may hold that is now hidden from
   * it. Null when there is nothing to send.
   */
  updateFor(viewer: PresencePeer, changed?: readonly number[]): Uint8Array | null {
    const withheld = this.withheldFrom(viewer);
    const states = this.awareness.getStates();
    const entries: Entry[] = [];
    for (const client of changed ?? [...states.keys()]) {
      const state = states.get(client) ?? null;
      const clock = this.clockOf(client);
      if (state === null) {
        // A removal reaches only the viewers that were shown the state.
        if (!withheld.delete(client)) entries.push({ client, clock, state });
      } else if (this.hides(client, state, viewer)) {
        if (withheld.has(client)) continue;
        // It may hold the state from before: it sees the device leave.
        withheld.add(client);
        entries.push({ client, clock, state: null });
      } else {
        withheld.delete(client);
        entries.push({ client, clock, state });
      }
    }
    return entries.length === 0 ? null : encodeEntries(entries);
  }

  /**
   * Who may see whom changed (a block or an unblock): each viewer loses the
   * states now hidden from it; a state hidden from someone who may see it
   * now is announced again by the server with the next clock (to every
   * connection, its owner too, so that all agree on the clock; a viewer that
   * saw the state removed takes only a newer clock).
   */
  refresh(viewers: Iterable<PresencePeer>): void {
    const again = new Set<number>();
    const states = this.awareness.getStates();
    for (const viewer of viewers) {
      const withheld = this.withheldFrom(viewer);
      for (const [client, state] of states) {
        if (withheld.has(client) && !this.hides(client, state, viewer)) again.add(client);
      }
      const withdrawn = this.updateFor(
        viewer,
        [...states.keys()].filter((client) => !withheld.has(client) && this.hides(client, states.get(client), viewer)),
      );
      if (withdrawn !== null) viewer.send(awarenessMessage(withdrawn));
    }
    if (again.size === 0) return;
    const entries = [...again].map((client) => ({ client, clock: this.clockOf(client) + 1, state: states.get(client) ?? null }));
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeEntries(entries), REANNOUNCE);
  }

  /** A connection closed: its states go (the others hear of it), and its client ids are free again. */
  release(peer: PresencePeer, destroyed: boolean): void {
    const mine = this.owned.get(peer);
    this.owned.delete(peer);
    if (mine === undefined) return;
    for (const client of mine) this.owners.delete(client);
    const gone = [...mine].filter((client) => this.awareness.getStates().has(client));
    if (gone.length > 0 && !destroyed) awarenessProtocol.removeAwarenessStates(this.awareness, gone, null);
  }

  /** How many client ids are owned (tests, metrics). */
  get ownedCount(): number {
    return this.owners.size;
  }

  private hides(client: number, state: unknown, viewer: PresencePeer): boolean {
    const owner = this.owners.get(client)?.user ?? (state as { user?: unknown } | undefined)?.user;
    return typeof owner === 'string' && owner !== viewer.user && this.hidden(owner, viewer.user);
  }

  private clockOf(client: number): number {
    return this.awareness.meta.get(client)?.clock ?? 0;
  }

  private withheldFrom(viewer: PresencePeer): Set<number> {
    let set = this.withheld.get(viewer);
    if (set === undefined) this.withheld.set(viewer, (set = new Set()));
    return set;
  }
}
