/**
 * The device's store (IndexedDB through Dexie). Two kinds of tables:
 * - what syncs: `updates` holds each Yjs document's updates (compacted into
 *   one snapshot when it grows), `outbox` each write not yet acknowledged
 *   (messages, actions, recalls, edits, reactions: lib/sync/outbox.ts) and
 *   `blobs` the bytes of media messages not uploaded yet;
 * - what the UI reads through live queries: `messages`, `conversations`,
 *   `profiles`, `receipts`, `reads` — materialised from the documents by
 *   observers (lib/sync/materialise.ts), never written by components.
 */
import { Dexie, type EntityTable } from 'dexie';
import type { Element, ErrorCode, MediaKind, MessageType, ReplyRef, Session } from '@parley/protocol';
import { searchWords } from './shared/words.ts';

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
  /** The body's elements (those that parse; lib/sync/materialise.ts). */
  body: Element[];
  /** The body in words (protocol's describeElement): what search and previews read. */
  text: string;
  /** `text`'s normalised words (lib/search/words.ts), the multi-entry `words` index of offline search. */
  words?: string[];
  ts: number;
  /** The server's acceptance order; null until stamped. */
  seq: number | null;
  /** Display order: the sequence, or after every sequenced message by send time. */
  order: number;
  segment: string;
  nickname: string;
  /** The message's type; `system` is a notice written by the server (rendered without a bubble). */
  type: MessageType;
  /** A system notice's title, when it has one. */
  title?: string;
  /** The message quotes another (its id and sender; the quote is shown from this device's copy). */
  reply?: ReplyRef;
  /** The text is the sender's latest edit (lib/sync/extras.ts). */
  edited?: true;
  /** Recalled: body and text are erased; `by` is the sender or `@admin`. */
  recalled?: { by: string; ts: number };
  /** Reactions: each emoji with who reacted, in order of first use. */
  reactions?: { emoji: string; users: string[] }[];
  /** The sender forwarded it from another message (shown "Forwarded"). */
  forwarded?: true;
  /**
   * Written by the service worker from a Web Push (lib/sync/pushed.ts): possibly
   * partial (the preview), never synced. The synced row of the same id replaces it.
   */
  pushed?: true;
}

export type OutboxState = 'pending' | 'failed';

/**
 * The outbox: every write of this device the server has not acknowledged, one
 * table, one record type tagged by `kind` (lib/sync/outbox.ts acks, fails and
 * re-applies them all the same way). Kept as plain data so that a reset, a
 * reload or a closed tab never loses one; ordered by `createdAt`.
 */
interface OutboxBase {
  /** A message's id; `action|<key>` and `extra|<key>` for the others. */
  id: string;
  /** The segment document the write goes into. */
  path: string;
  state: OutboxState;
  /** Why it failed (or, pending, `slow-down`: why it waits): a protocol code. */
  code?: ErrorCode;
  /** The refusal's own words, for a code whose words are not Parley's (`callback-refused`: the app's server's); shown instead of the code's. */
  reason?: string;
  createdAt: number;
}

/** A message (messages[id]). */
export interface OutboxRow extends OutboxBase {
  kind: 'message';
  conv: string;
  peer: string;
  /** The message object as written (plain data, possibly invalid for dev writes). */
  message: unknown;
  /**
   * A media message: `pending` while its bytes (`blobs`) are not all uploaded;
   * the hub does not write it into its document until they are (`done`).
   */
  uploads?: 'pending' | 'done';
}

/** A move on a custom message (`actions[key]`, lib/sync/actions.ts), shown with its refusal when refused. */
export interface ActionOutboxRow extends OutboxBase {
  kind: 'action';
  /** The document key: `actionKey(msg, from, name)`. */
  key: string;
  msg: string;
  /** The MessageAction value. */
  action: unknown;
}

/**
 * A recall, edit, reaction or pin (lib/sync/extras.ts): the document key and the
 * value to hold there (null: delete my item).
 */
export interface ExtraOutboxRow extends OutboxBase {
  kind: 'extra';
  /** `<root>|<document key>` */
  key: string;
  root: 'recalls' | 'edits' | 'reactions' | 'pins';
  docKey: string;
  msg: string;
  value: unknown;
  /** Where the write's item sits in the copy (client id, clock after it): an ack at or past it stored it. */
  client: number;
  clock: number;
}

export type OutboxEntry = OutboxRow | ActionOutboxRow | ExtraOutboxRow;
export type OutboxKind = OutboxEntry['kind'];

/**
 * The bytes of a media message not yet uploaded, kept on the device so that
 * the message shows at once, survives a reload and uploads when it can.
 * Deleted once the server acknowledges the message (or it is cancelled).
 */
export interface BlobRow {
  /** `<msgId>|<hash>` */
  id: string;
  msg: string;
  /** SHA-256, hex: the MediaRef's hash. */
  hash: string;
  blob: Blob;
  mime: string;
  kind: MediaKind;
  peer: string;
  name?: string;
  /** The server's upload id once created, to resume after a reload. */
  uploadId?: string;
  /** The server holds these bytes (the upload completed). */
  done: boolean;
}

export interface ConversationRow {
  peer: string;
  segment: string;
  lastSeq: number;
  lastId?: string;
  lastFrom?: string;
  preview: string;
  /** The last message was recalled, by this user (or `@admin`): the list words it for the reader (format.ts recallText). */
  recalledBy?: string;
  lastTs: number;
  unread: number;
  updatedAt: number;
  /** Written from a Web Push (lib/sync/pushed.ts): newer than the device's inbox copy, until the inbox catches up. */
  pushed?: true;
}

export interface ProfileRow {
  id: string;
  nickname: string;
  avatar?: string;
  /** Their "about" line (absent when they have none). */
  about?: string;
}

export interface ReceiptRow {
  /** `<conv>|<user>|<kind>` */
  id: string;
  conv: string;
  seq: number;
  /** When its writer raised it, when it says (Receipt.ts). */
  ts?: number;
}

/**
 * One step of a receipt as this device saw it rise: from then on the receipt
 * `key` (`<conv>|<user>|<kind>`) covered every message up to `seq`. Message
 * info reads the first step at or past a message's sequence: when it was
 * delivered or read (the receipt's own time when it carries one, else when
 * this device first saw it).
 */
export interface ReceiptTimeRow {
  /** `<key>|<seq>` */
  id: string;
  key: string;
  seq: number;
  ts: number;
}

/** prefs' `hidden[<msgId>]`: "delete for me", the message is hidden on all of the user's devices. */
export interface HiddenRow {
  msg: string;
  peer: string;
  ts: number;
}

/** prefs' `starred[<msgId>]`: the message is in the Starred view. */
export interface StarRow {
  msg: string;
  peer: string;
  ts: number;
}

/** A conversation document's `pins["<msgId>|<user>"]`: a member pinned the message at the top of the conversation. */
export interface MessagePinRow {
  /** `<conv>|<msgId>|<user>` */
  key: string;
  conv: string;
  msg: string;
  from: string;
  ts: number;
}

export interface ReadRow {
  peer: string;
  seq: number;
}

/** prefs' `muted[<peer>]`: no push for that conversation. */
export interface MuteRow {
  peer: string;
  muted: boolean;
}

/** prefs' `pinned[<peer>]`: on top of the list. */
export interface PinRow {
  peer: string;
  pinned: boolean;
  ts: number;
}

/** prefs' `archived[<peer>]`: out of the main list until a message newer than `ts`. */
export interface ArchiveRow {
  peer: string;
  archived: boolean;
  ts: number;
}

/** prefs' `drafts[<peer>]` with text (an empty draft has no row). */
export interface DraftRow {
  peer: string;
  text: string;
  reply?: ReplyRef;
  ts: number;
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

/**
 * `actions["<msgId>|<user>|<name>"]` of a conversation document: a member's
 * move on an interactive custom message (lib/custom/), as the document holds
 * it (this device's unacknowledged writes included).
 */
export interface ActionRow {
  /** The document key: `actionKey(msg, from, name)`. */
  key: string;
  msg: string;
  conv: string;
  from: string;
  name: string;
  data: unknown;
  ts: number;
}

/** What a custom message keeps on the sender's device only (a game's hidden move), by message id. */
export interface CustomSecretRow {
  msg: string;
  data: unknown;
}

/** One month segment of a conversation as the server listed it (`SegmentInfo`), cached: `id` is `<conv>|<segment>`. */
export interface SegmentRow {
  id: string;
  conv: string;
  segment: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export type ParleyDB = Dexie & {
  meta: EntityTable<MetaRow, 'key'>;
  updates: EntityTable<UpdateRow, 'id'>;
  outbox: EntityTable<OutboxEntry, 'id'>;
  messages: EntityTable<MessageRow, 'id'>;
  conversations: EntityTable<ConversationRow, 'peer'>;
  profiles: EntityTable<ProfileRow, 'id'>;
  receipts: EntityTable<ReceiptRow, 'id'>;
  reads: EntityTable<ReadRow, 'peer'>;
  relations: EntityTable<RelationRow, 'key'>;
  blobs: EntityTable<BlobRow, 'id'>;
  mutes: EntityTable<MuteRow, 'peer'>;
  pins: EntityTable<PinRow, 'peer'>;
  archives: EntityTable<ArchiveRow, 'peer'>;
  drafts: EntityTable<DraftRow, 'peer'>;
  actions: EntityTable<ActionRow, 'key'>;
  customSecrets: EntityTable<CustomSecretRow, 'msg'>;
  segments: EntityTable<SegmentRow, 'id'>;
  hidden: EntityTable<HiddenRow, 'msg'>;
  stars: EntityTable<StarRow, 'msg'>;
  messagePins: EntityTable<MessagePinRow, 'key'>;
  receiptTimes: EntityTable<ReceiptTimeRow, 'id'>;
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
// Messages carry their body (every element type); rows written before keep their words as a text element.
db.version(3)
  .stores({ blobs: 'id, msg, hash' })
  .upgrade(async (tx) => {
    await tx
      .table('messages')
      .toCollection()
      .modify((row: Partial<MessageRow> & { type?: string; title?: string }) => {
        if (Array.isArray(row.body)) return;
        const text = row.text ?? '';
        if (row.type === 'system') {
          row.body = [{ type: 'system', kind: 'custom', text: text || ' ', ...(row.title === undefined ? {} : { title: row.title }) }];
        } else {
          row.type = 'text';
          row.body = text === '' ? [] : [{ type: 'text', text }];
        }
      });
  });

// Muted conversations (prefs' `muted` map).
db.version(4).stores({ mutes: 'peer' });
// Custom messages: actions on them, the ones not acknowledged yet, and the sender's secrets.
db.version(5).stores({ actions: 'key, msg, conv', actionOutbox: 'key, path, msg, state', customSecrets: 'msg' });
// The server's list of a conversation's segments (lib/sync/segments.ts), cached for offline use.
db.version(6).stores({ segments: 'id, conv' });
// Pinned, archived and drafts (prefs), and offline search: a multi-entry index of each message's words,
// computed here for rows materialised before it existed. (The messages line lists every index of the table.)
db.version(7)
  .stores({ messages: 'id, conv, [conv+seq], [conv+order], *words', pins: 'peer', archives: 'peer', drafts: 'peer' })
  .upgrade(async (tx) => {
    await tx
      .table('messages')
      .toCollection()
      .modify((row: Partial<MessageRow>) => {
        row.words = searchWords(row.text ?? '');
      });
  });
// Recalls, edits and reactions not acknowledged yet (rows carry reply, edited, recalled and reactions; no index).
db.version(8).stores({ extraOutbox: 'key, path, msg, state' });
// One outbox: the pending actions and extras join the messages' table, tagged by kind, each keeping its data and
// creation time (the order writes go again in); their own tables go.
db.version(9)
  .stores({ outbox: 'id, path, conv, state, kind, msg', actionOutbox: null, extraOutbox: null })
  .upgrade(async (tx) => {
    await tx
      .table('outbox')
      .toCollection()
      .modify((row: { kind?: string }) => {
        row.kind = 'message';
      });
    const actions = (await tx.table('actionOutbox').toArray()) as Omit<ActionOutboxRow, 'id' | 'kind'>[];
    const extras = (await tx.table('extraOutbox').toArray()) as Omit<ExtraOutboxRow, 'id' | 'kind'>[];
    await tx.table('outbox').bulkPut([
      ...actions.map((r): ActionOutboxRow => ({ ...r, id: outboxId('action', r.key), kind: 'action' })),
      ...extras.map((r): ExtraOutboxRow => ({ ...r, id: outboxId('extra', r.key), kind: 'extra' })),
    ]);
  });

// Message actions (issue 17): hidden and starred messages (prefs), pinned messages (conversation documents) and
// the times receipts rose. All materialised from the documents, which hold them already: no rows to move.
db.version(10).stores({ hidden: 'msg, peer', stars: 'msg, peer, ts', messagePins: 'key, conv', receiptTimes: 'id, [key+seq]' });

/** The outbox id of an action's or extra's entry (a message's is its id). */
export function outboxId(kind: 'action' | 'extra', key: string): string {
  return `${kind}|${key}`;
}

/** Everything that belongs to the signed-in user (not the device id). */
export const userTables = ['updates', 'outbox', 'messages', 'conversations', 'profiles', 'receipts', 'reads', 'relations', 'blobs', 'mutes', 'actions', 'customSecrets', 'pins', 'archives', 'drafts', 'segments', 'hidden', 'stars', 'messagePins', 'receiptTimes'] as const;

export async function getMeta<T>(key: string): Promise<T | undefined> {
  return (await db.meta.get(key))?.value as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await db.meta.put({ key, value });
}

export type StoredSession = Session;
