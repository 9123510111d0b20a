/**
 * A conversation's history, segment by segment (docs/architecture.md,
 * "Segmented loading"). The server lists the month segments that hold
 * messages (`GET /conversations/:peer/segments`, cached in Dexie `segments`
 * for offline use); a segment is *complete* on this device when the device
 * holds as many of its messages as the list counts, and is then read from
 * Dexie without being fetched again. Otherwise it is synced once (the hub's
 * `history` hold: synced, materialised, closed) — the server is asked only for
 * what is missing.
 */
import { SegmentList, conversationId, segmentOf } from '@parley/protocol';
import { db, type MessageRow, type SegmentRow } from '../db.ts';
import { api } from '../shared/api.ts';
import { olderCandidates, segmentRows } from './segmentPlan.ts';

/** What the history needs from the hub. */
export interface HistoryHub {
  syncHistory(peer: string, segment: string): Promise<boolean>;
  holdOpen(peer: string, segment: string): void;
}

/** Segments fetched at most while looking for one message (a reply's original) not on the device. */
export const FIND_BOUND = 24;

/** The result of asking for what precedes the oldest message shown. */
export type OlderResult = 'local' | 'fetched' | 'beginning' | 'unavailable';

export class SegmentHistory {
  readonly me: string;
  readonly peer: string;
  readonly conv: string;
  readonly #hub: () => HistoryHub;
  readonly #token: () => string;
  /** Segments known complete on this device (counted or fetched) while this conversation is open. */
  readonly #complete = new Set<string>();
  /** Segments fetched (or tried) while open: each at most once. */
  readonly #fetched = new Set<string>();
  #refreshed: Promise<SegmentRow[] | null> | null = null;

  constructor(me: string, peer: string, hub: () => HistoryHub, token: () => string) {
    this.me = me;
    this.peer = peer;
    this.conv = conversationId(me, peer);
    this.#hub = hub;
    this.#token = token;
  }

  /** The server's list, fetched once per opening (online), else the cached one (possibly empty). */
  async list(): Promise<SegmentRow[]> {
    const fresh = await this.refresh();
    return fresh ?? (await db.segments.where('conv').equals(this.conv).toArray());
  }

  /** Fetches the list (once) and caches it; null when offline or refused. */
  refresh(): Promise<SegmentRow[] | null> {
    this.#refreshed ??= (async () => {
      if (typeof navigator !== 'undefined' && !navigator.onLine) return null;
      try {
        const list = await api('GET', `/conversations/${encodeURIComponent(this.peer)}/segments`, { token: this.#token(), schema: SegmentList });
        const rows = segmentRows(this.conv, list);
        await db.transaction('rw', db.segments, async () => {
          await db.segments.where('conv').equals(this.conv).delete();
          await db.segments.bulkPut(rows);
        });
        return rows;
      } catch {
        return null;
      }
    })();
    return this.#refreshed;
  }

  /**
   * On opening: the newest segment holding messages is held open with the
   * current month (the hub already opens the inbox's newest; the list covers
   * a conversation the inbox does not name yet).
   */
  async open(): Promise<void> {
    const newest = (await this.list()).reduce<SegmentRow | null>((n, s) => (n === null || s.segment > n.segment ? s : n), null);
    if (newest !== null) this.#hub().holdOpen(this.peer, newest.segment);
  }

  /** Whether the device holds every message the list counts in `info` (counted once per opening). */
  async isComplete(info: SegmentRow): Promise<boolean> {
    if (this.#complete.has(info.segment)) return true;
    // The sequence is per conversation and grows with time, so a segment's messages lie in its [firstSeq, lastSeq].
    const local = await db.messages.where('[conv+seq]').between([this.conv, info.firstSeq], [this.conv, info.lastSeq], true, true).count();
    if (local >= info.count) this.#complete.add(info.segment);
    return local >= info.count;
  }

  /** Syncs a segment unless it is complete on the device or was fetched already; false when it could not. */
  async ensure(info: SegmentRow): Promise<boolean> {
    if (this.#fetched.has(info.segment) || (await this.isComplete(info))) return true;
    if (typeof navigator !== 'undefined' && !navigator.onLine) return false;
    this.#fetched.add(info.segment);
    const ok = await this.#hub().syncHistory(this.peer, info.segment);
    if (ok) this.#complete.add(info.segment);
    else this.#fetched.delete(info.segment);
    return ok;
  }

  /**
   * Makes sure what precedes `oldest` (the oldest message shown; null when
   * none) is on the device: its own segment if incomplete, else the next
   * older one. `beginning` when no older segment exists.
   */
  async older(oldest: Pick<MessageRow, 'segment'> | null): Promise<OlderResult> {
    const candidates = olderCandidates(await this.list(), oldest?.segment ?? null);
    for (const info of candidates) {
      const wasLocal = this.#fetched.has(info.segment) || (await this.isComplete(info));
      if (info.segment === oldest?.segment && wasLocal) continue;
      if (wasLocal) return 'local';
      return (await this.ensure(info)) ? 'fetched' : 'unavailable';
    }
    return 'beginning';
  }

  /**
   * A message by id, fetching its segment when it is not on the device: the
   * segment of `ts` when known, else older segments newest first, at most
   * FIND_BOUND of them. Null when not found.
   */
  async find(id: string, ts?: number): Promise<MessageRow | null> {
    const local = await db.messages.get(id);
    if (local !== undefined && local.pushed !== true) return local;
    const list = await this.list();
    const candidates = olderCandidates(list, null);
    const hinted = ts === undefined ? undefined : candidates.find((s) => s.segment === segmentOf(ts));
    const order = hinted === undefined ? candidates : [hinted, ...candidates.filter((s) => s !== hinted)];
    let fetched = 0;
    for (const info of order) {
      if (fetched >= FIND_BOUND) break;
      if (this.#fetched.has(info.segment) || (await this.isComplete(info))) continue;
      fetched++;
      if (!(await this.ensure(info))) break;
      const row = await db.messages.get(id);
      if (row !== undefined) return row;
    }
    return (await db.messages.get(id)) ?? null;
  }
}

