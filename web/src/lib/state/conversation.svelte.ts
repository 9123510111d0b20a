/**
 * One conversation on screen: a *window* of its messages in display order
 * (the server's sequence, my unsent ones last), each with its state, and the
 * peer's profile. Reads Dexie only; the hub keeps the tables current.
 *
 * The window is a range of the `[conv+order]` index, `[lo, hi]` (null: open
 * ended), never the whole history: the live query re-reads at most CAP rows
 * and only wakes for writes inside its range, so the work per new message does
 * not grow with the history. Scrolling moves the window: `older()` prepends a
 * page (syncing the segment that holds it when the device lacks it, see
 * lib/sync/segments.ts) and `trimEnd()` then drops what fell far below;
 * `newer()` and `trimStart()` do the reverse; `around(id)` re-centres it.
 */
import { Dexie } from 'dexie';
import { conversationId, type Element, type ErrorCode, type MessageType } from '@parley/protocol';
import { db, type MessagePinRow, type MessageRow } from '../db.ts';
import { messageState, type MessageState } from '../shared/messageState.ts';
import { report } from '../shared/errors.ts';
import { messageEntriesOf } from '../sync/outbox.ts';
import { SegmentHistory, type HistoryHub } from '../sync/segments.ts';
import { arrived } from './arrival.ts';
import { Live } from './live.svelte.ts';
import { presence } from './presence.svelte.ts';
import { session } from './session.svelte.ts';

export interface MessageView {
  id: string;
  from: string;
  /** What the message holds, element by element. */
  body: Element[];
  /** The body in words (and the whole of a message whose body did not parse). */
  text: string;
  ts: number;
  seq: number | null;
  /** Display order (the `[conv+order]` index). */
  order: number;
  mine: boolean;
  /** Only my messages have a state. */
  state: MessageState | null;
  code?: ErrorCode | undefined;
  /** The refusal's own words (the app's server's), shown instead of the code's. */
  reason?: string | undefined;
  /** `system`: a notice from the server, shown centred without a bubble. */
  type: MessageType;
  title?: string | undefined;
  /** A media message of mine whose bytes are still uploading (pending) or failed to. */
  uploading: boolean;
  /** The device's own copy of media not yet acknowledged, by hash: shown without the network. */
  local?: ReadonlyMap<string, Blob> | undefined;
  reply?: MessageRow['reply'];
  edited?: MessageRow['edited'];
  recalled?: MessageRow['recalled'];
  reactions?: MessageRow['reactions'];
  forwarded?: MessageRow['forwarded'];
  /** I starred it (prefs `starred`). */
  starred?: boolean;
  /** Pinned in this conversation, by me (my pin's item: unpin deletes it). */
  pinnedByMe?: boolean;
}

/** The pinned message the bar at the top of the conversation shows: the latest pin of a message not hidden nor recalled. */
export interface PinnedView {
  id: string;
  from: string;
  text: string;
  /** Who pinned it, and how many messages are pinned in all. */
  by: string;
  count: number;
}

interface Snapshot {
  messages: MessageView[];
  pinned: PinnedView | null;
  name: string;
  avatar?: string | undefined;
  /** The peer's "about" line, when they have one. */
  about?: string | undefined;
  /** The user's read marker in this conversation (prefs). */
  readSeq: number;
  /** The window this snapshot was read for. */
  lo: number | null;
  hi: number | null;
  newest: number;
}

/** How long an opening waits for unread messages the inbox counted but the device does not hold yet (online only). */
const ARRIVAL_WAIT_MS = 3000;

export interface LeftOff {
  /** The first unread message of the peer and how many are unread from it; null when all is read. */
  first: { message: MessageRow; count: number } | null;
  lastSeq: number;
}

/**
 * The bar's message: the latest pin whose message the device holds and is not
 * recalled (a pin from a segment not synced yet waits for its message).
 */
async function pinnedOf(pins: readonly MessagePinRow[]): Promise<PinnedView | null> {
  const latest = [...pins].sort((a, b) => b.ts - a.ts);
  const rows = await db.messages.bulkGet([...new Set(latest.map((p) => p.msg))]);
  const byId = new Map(rows.flatMap((r) => (r === undefined || r.recalled !== undefined ? [] : [[r.id, r] as const])));
  const shown = latest.filter((p) => byId.has(p.msg));
  const top = shown[0];
  const row = top === undefined ? undefined : byId.get(top.msg);
  if (top === undefined || row === undefined) return null;
  return { id: row.id, from: row.from, text: row.text, by: top.from, count: new Set(shown.map((p) => p.msg)).size };
}

/** The shortest row of the list, px: a one-line message under one of the same sender. */
const SHORTEST_ROW_PX = 36;

/**
 * Messages read when the conversation opens at its newest: the window's height of the shortest rows (the
 * log is shorter than the window), so that the first screen is full and only it is rendered at first
 * (each row more costs the opening's first frame, on a phone as on a tall screen). The rest comes
 * once it is painted (`widen()`).
 */
function openingRows(): number {
  const height = typeof innerHeight === 'number' && innerHeight > 0 ? innerHeight : 1080;
  return Math.ceil(height / SHORTEST_ROW_PX);
}
/** Messages shown at the newest once the first screen is painted (`widen()`): a short conversation is whole. */
const INITIAL = 200;
/** Messages added per step of scrolling (virtua renders only those near the viewport). */
export const PAGE = 1000;
/** The window is trimmed back to this many messages after it grew by a page (the new page and what was in view). */
export const WINDOW = PAGE + 500;
/** The live query never reads more than this (the window plus the page it grows by, and new arrivals). */
const CAP = WINDOW + 2 * PAGE;

export class ConversationState {
  readonly peer: string;
  readonly me: string;
  readonly conv: string;
  readonly history: SegmentHistory;
  /** How many of the newest messages the window holds while `lo` is null (the opening's rows, then INITIAL). */
  #newest = $state(Math.min(openingRows(), INITIAL));
  /** The window's lowest order (inclusive); null: the newest `#newest` messages. */
  lo = $state<number | null>(null);
  /** The window's highest order (inclusive); null: up to the newest, following new messages. */
  hi = $state<number | null>(null);
  /** An older segment is being fetched. */
  loadingOlder = $state(false);
  /** The oldest message of the conversation is in the window. */
  beginning = $state(false);
  /** Older history could not be fetched (offline): scrolling up again retries. */
  unavailable = $state(false);
  /** Where the user left off, as read when the conversation opened (`leftOff()`). */
  readonly opening: Promise<LeftOff>;
  /** The list has painted its first screen, at the message it opened at (MessageList sets it). */
  shown = $state(false);
  readonly #live: Live<Snapshot>;
  /** The last snapshot shown, so that a moved window starts from it rather than from empty. */
  #last: Snapshot;
  #busy = false;

  /** `hub`: the session's sync hub (session.hub), which syncs the segments of history the device lacks. */
  constructor(me: string, peer: string, hub: HistoryHub) {
    this.me = me;
    this.peer = peer;
    this.conv = conversationId(me, peer);
    this.history = new SegmentHistory(me, peer, () => hub, () => session.current?.accessToken ?? '');
    void this.history.open().catch(report);
    // Where to open is read alongside the first rows, not after them.
    this.opening = this.leftOff();
    void this.opening.catch(report);
    this.#last = { messages: [], pinned: null, name: peer, readSeq: 0, lo: null, hi: null, newest: this.#newest };
    // The first screen's rows are asked for now, before the conversation's view is built (its live query starts with it).
    const opening = this.#newest;
    let first: Promise<Snapshot> | undefined = this.#query(null, null, opening);
    first.catch(() => undefined);
    this.#live = $derived.by(() => {
      const lo = this.lo;
      const hi = this.hi;
      const newest = this.#newest;
      const initial = this.#last;
      const read = lo === null && hi === null && newest === opening ? first : undefined;
      first = undefined;
      // Eager: a moved window's rows are read at once too, not a timeout later (Dexie's live query).
      return new Live<Snapshot>(() => this.#query(lo, hi, newest), initial, report, { eager: true, first: read });
    });
  }

  async #query(lo: number | null, hi: number | null, newest: number): Promise<Snapshot> {
    const { conv, me, peer } = this;
    const range = db.messages.where('[conv+order]').between([conv, lo ?? Dexie.minKey], [conv, hi ?? Dexie.maxKey], true, true);
    const [all, outbox, receipts, profile, read, hiddenIds, starredIds, pins] = await Promise.all([
      range.reverse().limit(lo === null ? newest : CAP).toArray(),
      messageEntriesOf(conv),
      db.receipts.where('conv').equals(conv).toArray(),
      db.profiles.get(peer),
      db.reads.get(peer),
      db.hidden.where('peer').equals(peer).primaryKeys(),
      db.stars.where('peer').equals(peer).primaryKeys(),
      db.messagePins.where('conv').equals(conv).toArray(),
    ]);
    // "Delete for me": hidden on every device of mine (prefs), kept for the peer.
    const hidden = new Set<string>(hiddenIds);
    const rows = all.filter((r) => !hidden.has(r.id));
    const starred = new Set<string>(starredIds);
    const pinned = await pinnedOf(pins.filter((p) => !hidden.has(p.msg)));
    const mineP = new Set(pins.filter((p) => p.from === me).map((p) => p.msg));
    const outboxOf = new Map(outbox.map((o) => [o.id, o]));
    const blobs = outbox.length === 0 ? [] : await db.blobs.where('msg').anyOf(outbox.map((o) => o.id)).toArray();
    const localOf = new Map<string, Map<string, Blob>>();
    for (const b of blobs) {
      let local = localOf.get(b.msg);
      if (local === undefined) localOf.set(b.msg, (local = new Map<string, Blob>()));
      local.set(b.hash, b.blob);
    }
    const receipt = (kind: string): number => receipts.find((r) => r.id === `${conv}|${peer}|${kind}`)?.seq ?? 0;
    const peerDelivered = receipt('delivered');
    const peerRead = receipt('read');
    const messages = rows.reverse().map((row): MessageView => {
      const entry = outboxOf.get(row.id);
      // What this device wrote is its own, even a (refused) message naming another author.
      const system = row.type === 'system';
      const mine = !system && (row.from === me || entry !== undefined);
      return {
        id: row.id,
        from: row.from,
        body: row.body,
        text: row.text,
        ts: row.ts,
        seq: row.seq,
        order: row.order,
        mine,
        state: mine ? messageState({ seq: row.seq, outbox: entry, peerDelivered, peerRead }) : null,
        code: entry?.code,
        reason: entry?.reason,
        type: row.type,
        title: row.title,
        uploading: entry?.uploads === 'pending',
        local: localOf.get(row.id),
        reply: row.reply,
        edited: row.edited,
        recalled: row.recalled,
        reactions: row.reactions,
        forwarded: row.forwarded,
        starred: starred.has(row.id),
        pinnedByMe: mineP.has(row.id),
      };
    });
    return { messages, pinned, name: profile?.nickname || peer, avatar: profile?.avatar, about: profile?.about, readSeq: read?.seq ?? 0, lo, hi, newest };
  }

  get #snapshot(): Snapshot {
    const snapshot = this.#live.current;
    this.#last = snapshot;
    return snapshot;
  }

  get messages(): MessageView[] {
    const messages = this.#snapshot.messages;
    if (presence.readsShown(this.peer)) return messages;
    // Read receipts off (mine or the peer's): no read ticks either way, only delivered (docs/security.md, "Privacy settings").
    let unread = this.#withoutReads.get(messages);
    if (unread === undefined) {
      unread = messages.map((m) => (m.state === 'read' ? { ...m, state: 'delivered' as const } : m));
      this.#withoutReads.set(messages, unread);
    }
    return unread;
  }

  /** The snapshot's messages with read shown as delivered, made once per snapshot. */
  readonly #withoutReads = new WeakMap<MessageView[], MessageView[]>();

  get name(): string {
    return this.#snapshot.name;
  }

  /** The message pinned at the top of the conversation (the latest pin), or null. */
  get pinned(): PinnedView | null {
    return this.#snapshot.pinned;
  }

  get avatar(): string | undefined {
    return this.#snapshot.avatar;
  }

  get about(): string | undefined {
    return this.#snapshot.about;
  }

  get readSeq(): number {
    return this.#snapshot.readSeq;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }

  /** The messages shown are those of the current window (it is not moving): only then may it move again. */
  get settled(): boolean {
    const snapshot = this.#snapshot;
    return this.loaded && snapshot.lo === this.lo && snapshot.hi === this.hi && snapshot.newest === this.#newest;
  }

  /** The window reaches the newest message (and follows new ones). */
  get atEnd(): boolean {
    return this.hi === null;
  }

  /** `PAGE` rows just below `order` (newest first), or just above it (oldest first). */
  #page(order: number, direction: 'below' | 'above', size = PAGE): Promise<MessageRow[]> {
    const { conv } = this;
    return direction === 'below'
      ? db.messages.where('[conv+order]').between([conv, Dexie.minKey], [conv, order], true, false).reverse().limit(size).toArray()
      : db.messages.where('[conv+order]').between([conv, order], [conv, Dexie.maxKey], false, true).limit(size).toArray();
  }

  /**
   * Scrolled to the top of the window: prepends the page before it, syncing
   * older segments first when the device lacks them. Resolves true when
   * messages were added.
   */
  async older(): Promise<boolean> {
    if (this.#busy || this.beginning || !this.settled) return false;
    this.#busy = true;
    try {
      const oldest = this.messages[0];
      // Bounded: each round either finds local rows, fetches one segment (each at most once), or ends.
      for (let round = 0; round < 64; round++) {
        const below = oldest === undefined ? [] : await this.#page(oldest.order, 'below');
        if (below.length > 0) {
          this.unavailable = false;
          this.lo = below[below.length - 1]?.order ?? null;
          return true;
        }
        const row = oldest === undefined ? null : await db.messages.get(oldest.id);
        this.loadingOlder = true;
        const result = await this.history.older(row ?? null).finally(() => (this.loadingOlder = false));
        if (result === 'beginning') {
          this.beginning = true;
          return false;
        }
        if (result === 'unavailable') {
          this.unavailable = true;
          return false;
        }
        if (oldest === undefined) return true;
      }
      return false;
    } finally {
      this.#busy = false;
    }
  }

  /** After `older()` rendered: drops what lies far below, so that the window stays bounded. */
  trimEnd(): void {
    if (this.#busy || !this.settled) return;
    const messages = this.messages;
    if (messages.length <= WINDOW) return;
    this.hi = messages[WINDOW - 1]?.order ?? null;
  }

  /** Scrolled to the bottom of a window that does not reach the newest: appends the next page. */
  async newer(): Promise<boolean> {
    if (this.#busy || this.hi === null || !this.settled) return false;
    this.#busy = true;
    try {
      const above = await this.#page(this.hi, 'above');
      this.hi = above.length < PAGE ? null : (above[above.length - 1]?.order ?? null);
      return above.length > 0;
    } finally {
      this.#busy = false;
    }
  }

  /** After `newer()` rendered: drops what lies far above. */
  trimStart(): void {
    if (this.#busy || !this.settled) return;
    const messages = this.messages;
    if (messages.length <= WINDOW) return;
    this.lo = messages[messages.length - WINDOW]?.order ?? null;
    this.beginning = false;
  }

  /** The first screen is painted: the window at the newest holds INITIAL messages (prepended, the position kept). */
  widen(): void {
    this.#newest = INITIAL;
  }

  /** Back to the newest messages. */
  latest(): void {
    this.lo = null;
    this.hi = null;
    this.beginning = false;
  }

  /**
   * Centres the window on a message (a link to it, the first unread),
   * fetching its segment when the device lacks it. Resolves false when it
   * could not be found.
   */
  async around(id: string, ts?: number): Promise<boolean> {
    const row = await this.history.find(id, ts);
    if (row === null || row.conv !== this.conv) return false;
    const [below, above] = await Promise.all([this.#page(row.order, 'below', PAGE / 2), this.#page(row.order, 'above', PAGE / 2)]);
    this.beginning = false;
    this.lo = below[below.length - 1]?.order ?? row.order;
    this.hi = above.length < PAGE / 2 ? null : (above[above.length - 1]?.order ?? null);
    return true;
  }

  /**
   * Where the user left off when the conversation opens: the first unread
   * message (the oldest of the last `unread` messages of the peer, as the
   * inbox counts them, beyond the read marker; bounded by the unread count),
   * and the conversation's last sequence (the inbox's: known before the
   * newest segment is on the device).
   */
  async leftOff(): Promise<LeftOff> {
    const [row, read] = await Promise.all([db.conversations.get(this.peer), db.reads.get(this.peer)]);
    const lastSeq = row?.lastSeq ?? 0;
    const unread = Math.min(row?.unread ?? 0, 1000);
    if (unread === 0) return { first: null, lastSeq };
    const marker = read?.seq ?? 0;
    // The unread may still be on their way (the inbox counted them before their segment synced): a moment's wait.
    if (navigator.onLine) await arrived(this.conv, lastSeq, ARRIVAL_WAIT_MS);
    const rows = await db.messages
      .where('[conv+seq]')
      .between([this.conv, marker + 1], [this.conv, Dexie.maxKey], true, true)
      .reverse()
      .filter((m) => m.from === this.peer)
      .limit(unread)
      .toArray();
    const first = rows[rows.length - 1];
    return { first: first === undefined ? null : { message: first, count: rows.length }, lastSeq };
  }

  /** Messages of the peer after sequence `seq` (at most 100 counted: the button says 99+). */
  async peerMessagesAfter(seq: number): Promise<number> {
    const rows = await db.messages
      .where('[conv+seq]')
      .between([this.conv, seq + 1], [this.conv, Dexie.maxKey], true, true)
      .filter((m) => m.from === this.peer)
      .limit(100)
      .keys();
    return rows.length;
  }
}
