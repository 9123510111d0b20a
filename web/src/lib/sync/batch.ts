/**
 * Changes of a document's maps, one batch per transaction: the work per write
 * is the size of the write, never of the history.
 */
import type * as Y from 'yjs';

/** The keys a transaction changed, per map. */
export type ChangedKeys = Map<Y.Map<unknown>, Set<string>>;

/**
 * Collects the keys each transaction changes in `maps` and hands them to
 * `flush` once per transaction. Every key counts as changed at attach time
 * (`initial`). Returns the function that stops observing.
 */
export function observeBatches(doc: Y.Doc, maps: Y.Map<unknown>[], flush: (keys: ChangedKeys, initial: boolean) => void): () => void {
  const dirty: ChangedKeys = new Map(maps.map((m) => [m, new Set(m.keys())]));
  const observers = maps.map((map) => {
    const fn = (event: Y.YMapEvent<unknown>): void => {
      for (const key of event.keysChanged as Set<string>) dirty.get(map)?.add(key);
    };
    map.observe(fn);
    return () => map.unobserve(fn);
  });
  const run = (initial: boolean): void => {
    if (![...dirty.values()].some((s) => s.size > 0)) return;
    const keys: ChangedKeys = new Map([...dirty].map(([m, s]) => [m, new Set(s)]));
    for (const s of dirty.values()) s.clear();
    flush(keys, initial);
  };
  const onTransaction = (): void => run(false);
  doc.on('afterTransaction', onTransaction);
  run(true);
  return () => {
    doc.off('afterTransaction', onTransaction);
    for (const off of observers) off();
  };
}
