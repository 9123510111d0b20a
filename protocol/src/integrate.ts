/**
 * Applies an update the validator accepted from the structs it decoded
 * (`Verdict.decoded`), so that Yjs does not decode the same bytes a second
 * time, as Y.applyUpdate would. It is Yjs 13's own readUpdateV2
 * (yjs/src/utils/encoding.js: integrateStructs, then readAndApplyDeleteSet
 * from DeleteSet.js) through Yjs's exported API, in the integration order the
 * validator replayed, without the bookkeeping of pending structs and
 * deletions: the validator refuses every update that would leave one. The
 * differential fuzz (fuzz/differential.ts) checks that it leaves the document
 * Y.applyUpdate leaves, byte for byte.
 */
import * as Y from 'yjs';
import type { DecodedUpdate } from './validate.ts';

/** What a decoded struct may hold as its parent before it is integrated: a root name, as the decoder leaves it. */
type DecodedParent = Y.Item['parent'] | string;

/**
 * Applies `update` to `doc` in one transaction with `origin`, as
 * Y.applyUpdate(doc, update.bytes, origin) would. `doc` must be the document
 * the update was judged against, unchanged since. Falls back to
 * Y.applyUpdate while the document holds pending structs or deletions (which
 * only updates from outside the validator leave).
 */
export function integrateDecoded(doc: Y.Doc, update: DecodedUpdate, origin: unknown): void {
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
    Y.applyUpdate(doc, update.bytes, origin);
    return;
  }
  Y.transact(
    doc,
    (transaction) => {
      integrateStructs(transaction, update.order);
      applyDeletions(transaction, update.ds);
    },
    origin,
    false,
  );
}

/** Yjs's integrateStructs on a precomputed order: resolve each struct's references, then integrate the part the document lacks. */
function integrateStructs(transaction: Y.Transaction, order: readonly (Y.Item | Y.GC)[]): void {
  const { doc } = transaction;
  const store = doc.store;
  for (const struct of order) {
    if (struct instanceof Y.Item) {
      // The decoder names a root parent by its key; Yjs's own reader looks the type up (doc.get) as it reads.
      const parent = struct.parent as DecodedParent;
      if (typeof parent === 'string') struct.parent = doc.get(parent);
    }
    const offset = Y.getState(store, struct.id.client) - struct.id.clock;
    if (offset < 0 || struct.getMissing(transaction, store) !== null) {
      throw new Error(`struct ${struct.id.client}:${struct.id.clock} depends on what the document does not hold: it was not judged against this document`);
    }
    if (offset === 0 || offset < struct.length) struct.integrate(transaction, offset);
  }
}

/**
 * Yjs's readAndApplyDeleteSet for deletions of clocks the document holds (the
 * validator refuses any other): each range's items are split at its ends and
 * deleted; items deleted already are left whole.
 */
function applyDeletions(transaction: Y.Transaction, ds: DecodedUpdate['ds']): void {
  const store = transaction.doc.store;
  for (const [client, ranges] of ds.clients) {
    const structs = store.clients.get(client) ?? [];
    for (const { clock, len } of ranges) {
      const end = clock + len;
      let index = Y.findIndexSS(structs, clock);
      const first = structs[index];
      if (first !== undefined && !first.deleted && first.id.clock < clock) {
        Y.getItemCleanStart(transaction, Y.createID(client, clock));
        index++;
      }
      while (index < structs.length) {
        const struct = structs[index++];
        if (struct === undefined || struct.id.clock >= end) break;
        if (struct.deleted) continue;
        if (end < struct.id.clock + struct.length) Y.getItemCleanEnd(transaction, store, Y.createID(client, end - 1));
        (struct as Y.Item).delete(transaction);
      }
    }
  }
}
