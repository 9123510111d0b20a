/**
 * The one validator of writes. The server runs it on every incoming update
 * before the update touches its copy of the document; the client runs
 * `checkMessage` before it writes, to fail fast offline.
 *
 * Guarantees, given the server's document `doc`:
 * - every new struct's Yjs client id is claimed by `user` (or unclaimed, and
 *   then claimed by this update), and follows what the server holds for that
 *   client id with no gap;
 * - every new item is a key in a root map this document kind lets clients
 *   write, holding a JSON value that passes the map's schema and names `user`
 *   as its author; an overwrite replaces only an item `user` wrote, and a
 *   message key, and an action key, is written once, ever, and an action is
 *   about a message of the same document;
 * - every deletion the server has not already applied is of `user`'s own items;
 * - nothing else: a refused update is refused whole.
 *
 * This works from the decoded structs alone (a new map key carries its root
 * and key; an overwrite carries an `origin` that is looked up), so the server
 * never clones a document to judge an update.
 */
import * as Y from 'yjs';
import type { ErrorCode } from './codes.ts';
import { LIMITS } from './limits.ts';
import { type DocPath, isUserId, segmentOf } from './paths.ts';
import { ACTION_MAX_BYTES, actionDataBytes, bodyBytes, Message, MessageAction, MuteSetting, ReadMarker, Receipt, type ReceiptKind } from './schemas.ts';

/** Root maps written by the server only. */
export const SERVER_ROOTS = { seq: 'seq', clients: 'clients' } as const;
/** Root maps of each document kind that clients may write. */
export const CLIENT_ROOTS = {
  conversation: ['messages', 'receipts', 'actions'],
  prefs: ['read', 'muted'],
  inbox: [],
} as const satisfies Record<DocPath['kind'], readonly string[]>;

/** The claimant of server-written structs in `clients`. */
export const SERVER_CLAIM = '@server';

export interface AcceptedReceipt {
  user: string;
  kind: ReceiptKind;
  seq: number;
}

export type Verdict =
  | {
      ok: true;
      /** Client ids used for the first time; the server claims them for the user. */
      newClients: number[];
      /** New messages, in update order. */
      messages: Message[];
      receipts: AcceptedReceipt[];
      readMarkers: { peer: string; seq: number }[];
      /** Mute settings written (`muted[peer]`); a deleted key, also an unmute, is not listed. */
      mutes: { peer: string; muted: boolean }[];
      /** New actions on messages (`actions["<msgId>|<user>|<name>"]`), in update order. */
      actions: MessageAction[];
      /** True when the update held nothing the server lacked. */
      empty: boolean;
    }
  | { ok: false; code: ErrorCode; detail: string; msgIds: string[] };

export interface ValidationContext {
  user: string;
  path: DocPath;
  /** The server's copy of the document (read only here). */
  doc: Y.Doc;
}

class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const refuse = (code: ErrorCode, detail: string): never => {
  throw new Refusal(code, detail);
};

/** Who claimed a client id in this document, if anyone. */
export function claimOf(doc: Y.Doc, client: number): string | undefined {
  const claim = doc.getMap<{ user: string }>(SERVER_ROOTS.clients).get(String(client));
  return claim?.user;
}

/** Checks a message value against the conversation it is written into. */
export function checkMessage(value: unknown, user: string, path: DocPath & { kind: 'conversation' }): Message {
  const raw = value as { type?: unknown; body?: unknown } | null;
  const claimsSystem = raw?.type === 'system' || (Array.isArray(raw?.body) && raw.body.some((e: unknown) => (e as { type?: unknown } | null)?.type === 'system'));
  if (claimsSystem) refuse('system-reserved', 'system messages are written by the server');
  const parsed = Message.safeParse(value);
  if (!parsed.success) {
    const body = (value as { body?: unknown } | null)?.body;
    if (Array.isArray(body) && new TextEncoder().encode(JSON.stringify(body)).length > LIMITS.bodyBytes) {
      refuse('body-too-long', 'body over 12 KB');
    }
    return refuse('schema-invalid', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const message = parsed.data;
  if (message.from !== user) refuse('not-author', `from is ${message.from}, the writer is ${user}`);
  const pairOk = message.from !== message.to && [path.a, path.b].includes(message.to) && [path.a, path.b].includes(message.from);
  if (!pairOk) refuse('wrong-conversation', `${message.from} -> ${message.to} in ${path.a}/${path.b}`);
  if (segmentOf(message.ts) !== path.segment) refuse('wrong-conversation', `ts is not in segment ${path.segment}`);
  if (bodyBytes(message.body) > LIMITS.bodyBytes) refuse('body-too-long', 'body over 12 KB');
  return message;
}

interface Placement {
  root: string;
  key: string;
  /** The user who wrote the item being overwritten; undefined for a new key. */
  replaces?: string | undefined;
}

type DecodedStruct = Y.Item | Y.GC | Y.Skip;

export function validateUpdate(update: Uint8Array, ctx: ValidationContext): Verdict {
  const msgIds: string[] = [];
  try {
    return judge(update, ctx, msgIds);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, detail: e.detail, msgIds: [...new Set(msgIds)] };
    // A malformed update: Yjs's decoder throws on garbage.
    return { ok: false, code: 'schema-invalid', detail: `undecodable update: ${String(e)}`, msgIds };
  }
}

function judge(update: Uint8Array, { user, path, doc }: ValidationContext, msgIds: string[]): Verdict {
  const { structs, ds } = Y.decodeUpdate(update);
  const store = doc.store;
  const newClients = new Set<number>();
  const expected = new Map<number, number>();
  /** New items of this update by client, for resolving origins inside the update. */
  const local = new Map<number, Y.Item[]>();
  const verdict = { newClients: [] as number[], messages: [] as Message[], receipts: [] as AcceptedReceipt[], readMarkers: [] as { peer: string; seq: number }[], mutes: [] as { peer: string; muted: boolean }[], actions: [] as MessageAction[] };
  let empty = true;
  /** Message keys this update writes, to refuse one key written twice. */
  const writtenKeys = new Set<string>();
  /** Messages this update carries with content, which its actions may be about. */
  const carriedMessages = new Set<string>();
  /** Action keys this update writes, to refuse one key written twice. */
  const writtenActions = new Set<string>();

  const ownerOf = (client: number): string | undefined => (newClients.has(client) ? user : claimOf(doc, client));

  // Roots of the server's document by instance, to name the parent of an existing item.
  const rootNames = new Map<unknown, string>();
  for (const [name, type] of doc.share) rootNames.set(type, name);

  // Index every new item first: structs are decoded by client id (highest
  // first), so an origin inside the update may come from a client decoded later
  // (an offline overwrite across a reload that changed the client id). The main
  // loop checks that each of these belongs to the user, or refuses the update.
  // The message keys are listed up front so a refusal names every one carried.
  for (const struct of structs as DecodedStruct[]) {
    if (!(struct instanceof Y.Item) || struct.id.clock + struct.length <= Y.getState(store, struct.id.client)) continue;
    const list = local.get(struct.id.client) ?? [];
    list.push(struct);
    local.set(struct.id.client, list);
    if (path.kind === 'conversation' && (struct.parent as unknown) === 'messages' && struct.parentSub !== null) {
      msgIds.push(struct.parentSub);
      if (!(struct.content instanceof Y.ContentDeleted)) carriedMessages.add(struct.parentSub);
    }
  }

  const findLocal = (id: Y.ID): Y.Item | undefined =>
    local.get(id.client)?.find((s) => s.id.clock <= id.clock && id.clock < s.id.clock + s.length);

  /** Where an item written into a map sits: its root and key. */
  const place = (item: Y.Item): Placement => {
    if (item.parent !== null) {
      const root: unknown = item.parent;
      if (typeof root !== 'string') return refuse('nested-type', 'writes into nested types are not allowed');
      if (item.parentSub === null) return refuse('unknown-root', `array insert into root ${root}`);
      return { root, key: item.parentSub };
    }
    if (item.origin === null) return refuse('unknown-root', 'an item without parent or origin');
    const inUpdate = findLocal(item.origin);
    if (inUpdate) return { ...place(inUpdate), replaces: user };
    const origin = item.origin;
    if (origin.clock >= Y.getState(store, origin.client)) {
      return refuse('reset-required', 'the update depends on an item the server does not have');
    }
    const existing = Y.getItem(store, origin);
    const root = rootNames.get(existing.parent);
    if (root === undefined || existing.parentSub === null) return refuse('nested-type', 'overwrite of a non-map item');
    return { root, key: existing.parentSub, replaces: ownerOf(origin.client) ?? '' };
  };

  for (const struct of structs as DecodedStruct[]) {
    if (struct instanceof Y.Skip) continue;
    const { client, clock } = struct.id;
    const next = expected.get(client) ?? Y.getState(store, client);
    if (clock + struct.length <= next) continue; // the server has it already
    if (clock > next) refuse('reset-required', `clock gap for client ${client}: have ${next}, got ${clock}`);
    expected.set(client, clock + struct.length);
    empty = false;

    const owner = ownerOf(client);
    if (owner === undefined) newClients.add(client);
    else if (owner !== user) refuse('client-id-taken', `client id ${client} belongs to another user`);

    if (struct instanceof Y.GC) continue; // own content, already collected
    judgeItem(struct, place(struct));
  }

  function judgeItem(item: Y.Item, { root, key, replaces }: Placement): void {
    if (item.content instanceof Y.ContentType) refuse('nested-type', 'nested shared types are not allowed');
    if (path.kind === 'inbox') refuse('read-only', 'only the server writes an inbox');
    if (root === SERVER_ROOTS.seq || root === SERVER_ROOTS.clients) refuse('read-only', `${root} is written by the server`);
    const allowed: readonly string[] = CLIENT_ROOTS[path.kind];
    if (!allowed.includes(root)) refuse('unknown-root', `no root ${root} in a ${path.kind} document`);
    if (root === 'messages' && !msgIds.includes(key)) msgIds.push(key);
    if (replaces !== undefined && replaces !== user) refuse('not-owner', `overwrite of ${root}[${key}] written by another user`);

    const deleted = item.content instanceof Y.ContentDeleted;
    let value: unknown;
    if (!deleted) {
      if (!(item.content instanceof Y.ContentAny) || item.content.arr.length !== 1) {
        refuse('schema-invalid', `${root}[${key}] must hold one JSON value`);
      }
      value = (item.content as Y.ContentAny).arr[0];
    }

    if (path.kind === 'conversation' && root === 'messages') {
      if (replaces !== undefined) refuse('duplicate-id', `message ${key} is written once`);
      if (doc.getMap('messages').has(key) || doc.getMap(SERVER_ROOTS.seq).has(key)) refuse('duplicate-id', `message ${key} exists`);
      // Two devices of one user may each write the same key offline; one update must not carry it twice.
      if (writtenKeys.has(key)) refuse('duplicate-id', `message ${key} is written twice in one update`);
      writtenKeys.add(key);
      if (deleted) return;
      const message = checkMessage(value, user, path);
      if (message.id !== key) refuse('schema-invalid', `key ${key} is not the message id ${message.id}`);
      verdict.messages.push(message);
    } else if (path.kind === 'conversation' && root === 'receipts') {
      const [who, kind, extra] = key.split('|');
      if (who !== user || extra !== undefined || (kind !== 'delivered' && kind !== 'read')) refuse('not-owner', `receipt ${key} is not ${user}'s`);
      if (deleted) return;
      const receipt = Receipt.safeParse(value);
      if (!receipt.success) return refuse('schema-invalid', `receipt ${key}`);
      if (receipt.data.user !== user) refuse('not-author', `receipt names ${receipt.data.user}`);
      verdict.receipts.push({ user, kind: kind as ReceiptKind, seq: receipt.data.seq });
    } else if (path.kind === 'conversation' && root === 'actions') {
      // Written once ever, like a message: no overwrite, no second write (the
      // map keeps a deleted key's last item, so a deleted action stays taken).
      const [msgId = '', who, name, extra] = key.split('|');
      if (who !== user || name === undefined || extra !== undefined) refuse('not-owner', `action ${key} is not ${user}'s`);
      if (replaces !== undefined) refuse('duplicate-action', `action ${key} is written once`);
      if (doc.getMap('actions')._map.has(key)) refuse('duplicate-action', `action ${key} exists`);
      if (writtenActions.has(key)) refuse('duplicate-action', `action ${key} is written twice in one update`);
      writtenActions.add(key);
      const known = doc.getMap('messages').has(msgId) || doc.getMap(SERVER_ROOTS.seq).has(msgId) || carriedMessages.has(msgId);
      if (!known) refuse('message-not-found', `action ${key} is about no message of this document`);
      if (deleted) return;
      const action = MessageAction.safeParse(value);
      if (!action.success) return refuse('schema-invalid', `action ${key}: ${action.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (action.data.from !== user) refuse('not-author', `action names ${action.data.from}`);
      if (action.data.msg !== msgId || action.data.name !== name) refuse('schema-invalid', `action ${key} holds msg ${action.data.msg} and name ${action.data.name}`);
      if (actionDataBytes(action.data.data) > ACTION_MAX_BYTES) refuse('action-too-long', `action data over ${ACTION_MAX_BYTES} bytes`);
      verdict.actions.push(action.data);
    } else if (path.kind === 'prefs' && root === 'read') {
      if (path.user !== user) refuse('not-owner', 'prefs are written by their owner');
      if (!isUserId(key)) refuse('schema-invalid', 'a read marker key must be a user id');
      if (deleted) return;
      const marker = ReadMarker.safeParse(value);
      if (!marker.success) return refuse('schema-invalid', `read marker ${key}`);
      verdict.readMarkers.push({ peer: key, seq: marker.data.seq });
    } else if (path.kind === 'prefs' && root === 'muted') {
      if (path.user !== user) refuse('not-owner', 'prefs are written by their owner');
      if (!isUserId(key)) refuse('schema-invalid', 'a mute key must be a user id');
      if (deleted) return;
      const mute = MuteSetting.safeParse(value);
      if (!mute.success) return refuse('schema-invalid', `mute setting ${key}`);
      verdict.mutes.push({ peer: key, muted: mute.data.muted });
    }
  }

  // Deletions: a client sends its whole delete set on every sync, so the ones
  // the server has applied already are skipped; the rest must be the user's.
  for (const [client, ranges] of ds.clients) {
    for (const { clock, len } of ranges) {
      if (allDeleted(store, client, clock, len)) continue;
      empty = false;
      if (ownerOf(client) !== user) refuse('not-owner', `deletion of items written by another user (client ${client})`);
    }
  }

  verdict.newClients = [...newClients];
  return { ok: true, ...verdict, empty };
}

/** Whether the server's store has every struct in the range, deleted. */
function allDeleted(store: Y.Doc['store'], client: number, clock: number, len: number): boolean {
  const structs = store.clients.get(client);
  if (structs === undefined || clock + len > Y.getState(store, client)) return false;
  let c = clock;
  let i = Y.findIndexSS(structs, c);
  while (c < clock + len) {
    const s = structs[i];
    if (s === undefined || !s.deleted) return false;
    c = s.id.clock + s.length;
    i++;
  }
  return true;
}
