/**
 * The device's store (IndexedDB through Dexie). Two kinds of tables:
 * - what syncs: `updates` holds each Yjs document's updates (compacted into
 *   one snapshot when it grows) and `outbox` each write not yet acknowledged;
 * - what the UI reads through live queries: `messages`, `conversations`,
 *   `profiles`, `receipts`, `reads` — materialised from the documents by
 *   observers (lib/sync/materialise.ts), never written by components.
 */
import { Dexie, type EntityTable } from 'dexie';
import type { ErrorCode, Session } from '@parley/protocol';

export interface UpdateRow {
  id?: number;
  path: string;
  update: Uint8Array;
}

export interface MessageRow {
  id: string;
  /** `conversationId(a, b)`: `<a>/<b>`. */
  conv: string;
  peer: string;
  from: string;
  to: string;
  text: string;
  ts: number;
  /** The server's acceptance order; null until stamped. */
  seq: number | null;
  /** Display order: the sequence, or after every sequenced message by send time. */
  order: number;
  segment: string;
  nickname: string;
  /** `system`: a notice written by the server (rendered without a bubble). */
  type?: 'text' | 'system';
  /** A system notice's title, when it has one. */
  title?: string;
}

export type OutboxState = 'pending' | 'failed';

export interface OutboxRow {
  id: string;
  /** The segment document the message is written into. */
  path: string;
  conv: string;
  peer: string;
  /** The message object as written (plain data, possibly invalid for dev writes). */
  message: unknown;
  state: OutboxState;
  /** Why it failed: a protocol code. */
  code?: ErrorCode;
  createdAt: number;
}

export interface ConversationRow {
  peer: string;
  segment: string;
  lastSeq: number;
  lastId?: string;
  lastFrom?: string;
  preview: string;
  lastTs: number;
  unread: number;
  updatedAt: number;
}

export interface ProfileRow {
  id: string;
  nickname: string;
  avatar?: string;
}

export interface ReceiptRow {
  /** `<conv>|<user>|<kind>` */
  id: string;
  conv: string;
  seq: number;
}

export interface ReadRow {
  peer: string;
  seq: number;
}

/** The inbox's `friends`, `blocklist` and `requests` maps, one row per entry. */
export interface RelationRow {
  /** `friend|<id>`, `block|<id>`, `in|<from>` or `out|<to>` */
  key: string;
  kind: 'friend' | 'block' | 'in' | 'out';
  /** The other user. */
  id: string;
  note: string;
  ts: number;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export type ParleyDB = Dexie & {
  meta: EntityTable<MetaRow, 'key'>;
  updates: EntityTable<UpdateRow, 'id'>;
  outbox: EntityTable<OutboxRow, 'id'>;
  messages: EntityTable<MessageRow, 'id'>;
  conversations: EntityTable<ConversationRow, 'peer'>;
  profiles: EntityTable<ProfileRow, 'id'>;
  receipts: EntityTable<ReceiptRow, 'id'>;
  reads: EntityTable<ReadRow, 'peer'>;
  relations: EntityTable<RelationRow, 'key'>;
};

export const db = new Dexie('parley') as ParleyDB;
db.version(1).stores({
  meta: 'key',
  updates: '++id, path',
  outbox: 'id, path, conv, state',
  messages: 'id, conv, [conv+seq], [conv+order]',
  conversations: 'peer, updatedAt',
  profiles: 'id',
  receipts: 'id, conv',
  reads: 'peer',
});
db.version(2).stores({ relations: 'key, kind' });

/** Everything that belongs to the signed-in user (not the device id). */
export const userTables = ['updates', 'outbox', 'messages', 'conversations', 'profiles', 'receipts', 'reads', 'relations'] as const;

export async function getMeta<T>(key: string): Promise<T | undefined> {
  return (await db.meta.get(key))?.value as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await db.meta.put({ key, value });
}

export type StoredSession = Session;
