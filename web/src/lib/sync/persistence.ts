/**
 * Each Yjs document persists in Dexie as a list of updates, appended as they
 * happen and compacted into one snapshot once the list grows, so that opening
 * a document costs one read however long its history.
 */
import * as Y from 'yjs';
import { db } from '../db.ts';

/** The origin of updates replayed from the store (not stored again). */
export const FROM_STORE = Symbol('store');

/** Compact when a document has more stored updates than this. */
const COMPACT_AFTER = 64;

export async function loadDoc(path: string, doc: Y.Doc): Promise<void> {
  const rows = await db.updates.where('path').equals(path).sortBy('id');
  if (rows.length === 0) return;
  Y.transact(doc, () => {
    for (const row of rows) Y.applyUpdate(doc, row.update, FROM_STORE);
  }, FROM_STORE);
  if (rows.length > COMPACT_AFTER) await compact(path, doc);
}

async function compact(path: string, doc: Y.Doc): Promise<void> {
  const snapshot = Y.encodeStateAsUpdate(doc);
  await db.transaction('rw', db.updates, async () => {
    const ids = (await db.updates.where('path').equals(path).primaryKeys());
    await db.updates.bulkDelete(ids);
    await db.updates.add({ path, update: snapshot });
  });
}

export interface Persisted {
  detach(): void;
  /** Resolves when every write so far has landed. */
  flushed(): Promise<unknown>;
  /**
   * Replaces the stored updates with one snapshot of the document now, after
   * every write so far: with a garbage-collected document, content deleted
   * from it (a recalled message) is then gone from the store too.
   */
  compact(): Promise<void>;
}

/**
 * Stores every update of `doc` not replayed from the store. Writes are
 * chained so that they land in order.
 */
export function persistDoc(path: string, doc: Y.Doc, onError: (e: unknown) => void): Persisted {
  let chain: Promise<unknown> = Promise.resolve();
  let count = 0;
  const onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === FROM_STORE) return;
    count++;
    const shouldCompact = count > COMPACT_AFTER;
    if (shouldCompact) count = 0;
    chain = chain
      .then(async () => {
        if (shouldCompact) await compact(path, doc);
        else await db.updates.add({ path, update });
      })
      .catch(onError);
  };
  doc.on('update', onUpdate);
  const compactNow = (): Promise<void> => {
    count = 0;
    const done = chain.then(() => compact(path, doc));
    chain = done.catch(onError);
    return done;
  };
  return { detach: () => doc.off('update', onUpdate), flushed: () => chain, compact: compactNow };
}

export async function clearDoc(path: string): Promise<void> {
  await db.updates.where('path').equals(path).delete();
}
