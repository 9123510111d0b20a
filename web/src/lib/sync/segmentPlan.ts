/** Pure helpers of lib/sync/segments.ts (no store, no network). */
import type { SegmentList } from '@parley/protocol';
import type { SegmentRow } from '../db.ts';

/**
 * The segments to look at, newest first, for what precedes a message of
 * segment `segment` (null: nothing shown yet): that segment itself (it may be
 * incomplete) and every older one.
 */
export function olderCandidates(list: readonly SegmentRow[], segment: string | null): SegmentRow[] {
  const sorted = [...list].sort((x, y) => (x.segment < y.segment ? 1 : x.segment > y.segment ? -1 : 0));
  return segment === null ? sorted : sorted.filter((s) => s.segment <= segment);
}

/** Rows of the server's list, keyed for Dexie. */
export function segmentRows(conv: string, list: SegmentList): SegmentRow[] {
  return list.segments.map((s) => ({ id: `${conv}|${s.segment}`, conv, ...s }));
}
