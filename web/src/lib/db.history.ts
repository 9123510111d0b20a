/**
 * The device store's schema as each earlier version declared it, frozen:
 * migration tests open a store "made by the old version" with it, put rows
 * in, close it, and open the app's `db` (db.ts) on top. Only tests import it.
 * Add a version here when db.ts adds one; never change one that is here.
 */
import { Dexie } from 'dexie';

const VERSIONS: Record<string, string | null>[] = [
  {
    meta: 'key',
    updates: '++id, path',
    outbox: 'id, path, conv, state',
    messages: 'id, conv, [conv+seq], [conv+order]',
    conversations: 'peer, updatedAt',
    profiles: 'id',
    receipts: 'id, conv',
    reads: 'peer',
  },
  { relations: 'key, kind' },
  { blobs: 'id, msg, hash' },
  { mutes: 'peer' },
  { actions: 'key, msg, conv', actionOutbox: 'key, path, msg, state', customSecrets: 'msg' },
  { segments: 'id, conv' },
  { messages: 'id, conv, [conv+seq], [conv+order], *words', pins: 'peer', archives: 'peer', drafts: 'peer' },
  { extraOutbox: 'key, path, msg, state' },
  { outbox: 'id, path, conv, state, kind, msg', actionOutbox: null, extraOutbox: null },
];

/** The `parley` store as versions 1 to `version` declared it (no upgrades: the rows a test puts are already in that shape). */
export function storeAt(version: number): Dexie {
  if (version < 1 || version > VERSIONS.length) throw new Error(`no frozen schema for version ${version}`);
  const old = new Dexie('parley');
  VERSIONS.slice(0, version).forEach((stores, i) => old.version(i + 1).stores(stores));
  return old;
}
