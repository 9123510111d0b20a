/**
 * A document as `npm run migrate` compares it: loaded the way the server
 * loads it (sync/live-doc.ts: the snapshot, then every log row, into a
 * garbage-collecting Y.Doc), and hashed in a form that is the same on both
 * sides exactly when both hold the same document, however each stores it
 * (one snapshot, a snapshot and log rows, several merges).
 *
 * The hash covers the state vector (every struct there is: clients and
 * clocks), the delete set (which of them are deleted) and the JSON of every
 * non-empty root map, keys sorted. The bytes of an encoded state are not
 * hashed: how Yjs splits and merges structs depends on the order updates
 * were applied in, so equal documents may encode differently.
 */
import { createHash } from 'node:crypto';
import * as Y from 'yjs';

/** A stored document's parts, as both backends return them. */
export interface DocParts {
  snapshot: Uint8Array | null;
  updates: readonly { data: Uint8Array }[];
}

export function loadParts(parts: DocParts): Y.Doc {
  const doc = new Y.Doc();
  Y.transact(doc, () => {
    if (parts.snapshot !== null) Y.applyUpdate(doc, parts.snapshot);
    for (const u of parts.updates) Y.applyUpdate(doc, u.data);
  });
  return doc;
}

export function docChecksum(doc: Y.Doc): string {
  const { sv, ds } = Y.snapshot(doc);
  const clients = [...sv.entries()].sort(([a], [b]) => a - b);
  const deleted = [...ds.clients.entries()]
    .filter(([, ranges]) => ranges.length > 0)
    .sort(([a], [b]) => a - b)
    .map(([client, ranges]) => [client, mergeRanges(ranges.map((r) => [r.clock, r.len] as const))]);
  const roots = [...doc.share.keys()]
    .sort()
    .map((name) => [name, doc.getMap(name).toJSON()] as const)
    // A root whose every entry was deleted and collected may be absent from a doc loaded elsewhere: {} and none hash alike.
    .filter(([, json]) => Object.keys(json).length > 0);
  return createHash('sha256').update(stableJson({ clients, deleted, roots })).digest('hex');
}

/** Sorted, adjacent and overlapping ranges joined: one delete set may list a run as several pieces. */
function mergeRanges(ranges: (readonly [number, number])[]): [number, number][] {
  const merged: [number, number][] = [];
  for (const [clock, len] of [...ranges].sort(([a], [b]) => a - b)) {
    const last = merged.at(-1);
    if (last !== undefined && clock <= last[0] + last[1]) last[1] = Math.max(last[1], clock + len - last[0]);
    else merged.push([clock, len]);
  }
  return merged;
}

/** JSON with every object's keys sorted, so that equal values give equal text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
