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
 * - every deletion the server has not already applied is of `user`'s own items,
 *   of clocks the document holds once the update's structs are in (an item
 *   the update adds is judged like one the server holds), and a message's
 *   content (or an edit of it) is deleted only with its recall;
 * - Yjs applies the update whole: every id it resolves (origin, right origin,
 *   parent id, of new structs and of re-sent ones alike) is held by the server
 *   or comes earlier in Yjs's own integration order, so `Y.applyUpdate` never
 *   throws half-way nor keeps structs or deletions pending, and every clock
 *   and deletion ends within 2^53, where Yjs's clock sums are exact (checked by the
 *   differential fuzz in fuzz/, `npm run fuzz:validator`);
 * - a recall is the sender's, within the recall window, once; an edit is the
 *   sender's, of a text message not recalled; a reaction, and a pin (each
 *   member's own `pins["<msgId>|<user>"]`), is about a message of the
 *   document not recalled; prefs `hidden` and `starred` are keyed by message
 *   id, each capped (`prefs-full`);
 * - nothing else: a refused update is refused whole.
 *
 * This works from the decoded structs alone (a new map key carries its root
 * and key; an overwrite carries an `origin` that is looked up), so the server
 * never clones a document to judge an update. An accepted update's decoded
 * structs are handed on (`decoded`), so that the server applies, stores and
 * acknowledges it without decoding the same bytes again (integrate.ts).
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import type { ErrorCode } from './codes.ts';
import { LIMITS } from './limits.ts';
import { isAvatarUrl } from './media.ts';
import { cleanNickname } from './names.ts';
import { type DocPath, isUserId, segmentOf } from './paths.ts';
import {
  ACTION_MAX_BYTES,
  actionDataBytes,
  ArchiveSetting,
  bodyBytes,
  Draft,
  HiddenMessage,
  Message,
  MessageAction,
  MessageEdit,
  MessageId,
  MessagePin,
  MuteSetting,
  PinSetting,
  Reaction,
  ReadMarker,
  Recall,
  Receipt,
  type ReceiptKind,
  StarredMessage,
} from './schemas.ts';

/** Root maps written by the server only. */
export const SERVER_ROOTS = { seq: 'seq', clients: 'clients' } as const;
/** Root maps of each document kind that clients may write. */
export const CLIENT_ROOTS = {
  conversation: ['messages', 'receipts', 'actions', 'recalls', 'edits', 'reactions', 'pins'],
  prefs: ['read', 'muted', 'pinned', 'archived', 'drafts', 'hidden', 'starred'],
  inbox: [],
} as const satisfies Record<DocPath['kind'], readonly string[]>;

/** The claimant of server-written structs in `clients`. */
export const SERVER_CLAIM = '@server';

export interface AcceptedReceipt {
  user: string;
  kind: ReceiptKind;
  seq: number;
}

/**
 * An accepted update as the validator decoded it: what the server needs to
 * apply it (integrate.ts), store it and name it in its `ack`, with no second
 * decode. Its structs are the ones Yjs integrates: applying them changes them,
 * so it is applied once, to the document it was judged against, before any
 * other change to that document.
 */
export interface DecodedUpdate {
  /** The update's bytes, as the client sent them. */
  bytes: Uint8Array;
  /** Its structs in the order Yjs integrates them (Skips left out), the ones the server holds already among them. */
  order: (Y.Item | Y.GC)[];
  /** Its deletions, as Yjs decodes them. */
  ds: DeleteSet;
  /** Per client section, the first clock and the clock after the last struct, as Y.parseUpdateMeta gives them. */
  meta: { from: Map<number, number>; to: Map<number, number> };
}

type DeleteSet = ReturnType<typeof Y.decodeUpdate>['ds'];

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
      /** Messages recalled by their sender (`recalls[<msgId>]`); the server erases their content from storage. */
      recalls: { msg: string; by: string }[];
      /** New edits (`edits["<msgId>|<n>"]`), in update order. */
      edits: MessageEdit[];
      /** Reactions written (`reactions["<msgId>|<user>|<emoji>"]`); a deleted key, a reaction taken back, is not listed. */
      reactions: Reaction[];
      /** True when the update held nothing the server lacked. */
      empty: boolean;
      decoded: DecodedUpdate;
    }
  | { ok: false; code: ErrorCode; detail: string; msgIds: string[] };

export interface ValidationContext {
  user: string;
  path: DocPath;
  /** The server's copy of the document (read only here). */
  doc: Y.Doc;
  /** The time a recall is judged at, ms; default Date.now(). */
  now?: number;
  /** How long after its `ts` a message may be recalled by its sender; default LIMITS.recallWindowMs. */
  recallWindowMs?: number;
  /** How many messages a user may hide (prefs `hidden`) and, apart, star (`starred`); default LIMITS.hiddenMessages and LIMITS.starredMessages. */
  maxMarkedMessages?: number;
  /**
   * The times a client may write (`ts` of a message, edit, reaction, action
   * or recall): at most `maxSkewMs` after `now` and at most `maxAgeMs` before
   * it; defaults LIMITS.maxClockSkewMs and LIMITS.maxMessageAgeMs.
   */
  tsWindow?: { maxSkewMs: number; maxAgeMs: number };
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
  if ((value as { push?: unknown } | null)?.push !== undefined) refuse('system-reserved', 'push options are written by the server');
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
  if (message.profile.avatar !== undefined && !isAvatarUrl(message.profile.avatar)) refuse('avatar-invalid', 'profile.avatar is not a /api/v1/media/ address');
  // The nickname a message carries is shown beside it on the peer's devices: held to the rule of stored nicknames.
  if (cleanNickname(message.profile.nickname) !== message.profile.nickname) refuse('nickname-invalid', 'profile.nickname holds invisible or control characters, or nothing visible');
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

/** A time a real device can write now: not far in the future, not older than a long offline spell. */
function checkTs(ts: number, now: number, window: { maxSkewMs: number; maxAgeMs: number }, what: string): void {
  if (ts > now + window.maxSkewMs) refuse('ts-out-of-range', `${what} is ${Math.round((ts - now) / 1000)} s ahead of the server's clock`);
  if (ts < now - window.maxAgeMs) refuse('ts-out-of-range', `${what} is ${Math.round((now - ts) / 86_400_000)} days old`);
}

const DEFAULT_TS_WINDOW = { maxSkewMs: LIMITS.maxClockSkewMs, maxAgeMs: LIMITS.maxMessageAgeMs };

function judge(
  update: Uint8Array,
  { user, path, doc, now = Date.now(), recallWindowMs = LIMITS.recallWindowMs, maxMarkedMessages, tsWindow = DEFAULT_TS_WINDOW }: ValidationContext,
  msgIds: string[],
): Verdict {
  const decoded = Y.decodeUpdate(update);
  const structs = decoded.structs as DecodedStruct[];
  const ds = decoded.ds;
  checkSections(update, structs);
  const store = doc.store;
  const newClients = new Set<number>();
  const expected = new Map<number, number>();
  /** New items of this update by client, for resolving origins inside the update. */
  const local = new Map<number, Y.Item[]>();
  const verdict = {
    newClients: [] as number[],
    messages: [] as Message[],
    receipts: [] as AcceptedReceipt[],
    readMarkers: [] as { peer: string; seq: number }[],
    mutes: [] as { peer: string; muted: boolean }[],
    actions: [] as MessageAction[],
    recalls: [] as { msg: string; by: string }[],
    edits: [] as MessageEdit[],
    reactions: [] as Reaction[],
  };
  let empty = true;
  /** Message keys this update writes, to refuse one key written twice. */
  const writtenKeys = new Set<string>();
  /** Messages this update carries with content, which its actions may be about. */
  const carriedMessages = new Set<string>();
  /** Action keys this update writes, to refuse one key written twice. */
  const writtenActions = new Set<string>();
  /** Edit keys this update writes, to refuse one key written twice. */
  const writtenEdits = new Set<string>();
  /** Messages this update recalls, whose content and edits it may therefore delete. */
  const recalledHere = new Set<string>();
  /** Keys of prefs `hidden` and `starred` this update adds (not held live by the server), for their caps. */
  const addedMarks = { hidden: new Set<string>(), starred: new Set<string>() };
  /** How many keys of `hidden` and `starred` the server holds, counted once (a Y.Map's size is a walk). */
  const heldMarks = new Map<string, number>();
  /** Deletions of existing items (root and key), judged once every recall of the update is known. */
  const deletions: { root: string; key: string }[] = [];
  const serverMessages = doc.getMap<Message>('messages');
  const recalls = doc.getMap('recalls');
  const isRecalled = (msgId: string): boolean => recalls.has(msgId) || recalledHere.has(msgId);
  /** A message of this document: held with content, or stamped (recalled since), or carried by this update. */
  const knownMessage = (msgId: string): boolean => serverMessages.has(msgId) || doc.getMap(SERVER_ROOTS.seq).has(msgId) || carriedMessages.has(msgId);

  const ownerOf = (client: number): string | undefined => (newClients.has(client) ? user : claimOf(doc, client));
  /** The message keys listed in msgIds, so that listing one is not a scan of the list. */
  const listed = new Set<string>();
  const listMessage = (key: string): void => {
    if (listed.has(key)) return;
    listed.add(key);
    msgIds.push(key);
  };

  // Roots of the server's document by instance, to name the parent of an existing item.
  const rootNames = new Map<unknown, string>();
  for (const [name, type] of doc.share) rootNames.set(type, name);

  /**
   * Whether the server's items in a range are all messages of `user` (the
   * server wrote one over: an app backend's rewrite, an admin's send as the
   * user). Its sender deletes it as their own, with its recall (checked below).
   */
  const ownMessagesOnly = (client: number, clock: number, len: number): boolean => {
    let own = true;
    forEachLiveItem(store, client, clock, len, (item) => {
      const value = item.content.getContent()[0] as { from?: unknown } | null | undefined;
      if (rootNames.get(item.parent) !== 'messages' || value?.from !== user) own = false;
    });
    return own;
  };

  // Index every new item first: structs are decoded by client id (highest
  // first), so an origin inside the update may come from a client decoded later
  // (an offline overwrite across a reload that changed the client id). The main
  // loop checks that each of these belongs to the user, or refuses the update.
  // The message keys are listed up front so a refusal names every one carried.
  for (const struct of structs) {
    if (!(struct instanceof Y.Item) || struct.id.clock + struct.length <= Y.getState(store, struct.id.client)) continue;
    const list = local.get(struct.id.client) ?? [];
    list.push(struct);
    local.set(struct.id.client, list);
    if (path.kind === 'conversation' && (struct.parent as unknown) === 'messages' && struct.parentSub !== null) {
      listMessage(struct.parentSub);
      if (!(struct.content instanceof Y.ContentDeleted)) carriedMessages.add(struct.parentSub);
    }
  }

  /** The new item of this update holding `id`: a binary search, since a client's structs are decoded in clock order. */
  const findLocal = (id: Y.ID): Y.Item | undefined => {
    const list = local.get(id.client);
    if (list === undefined) return undefined;
    let low = 0;
    let high = list.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const s = list[mid] as Y.Item;
      if (id.clock < s.id.clock) high = mid - 1;
      else if (id.clock >= s.id.clock + s.length) low = mid + 1;
      else return s;
    }
    return undefined;
  };

  /** Placements found so far: a chain of overwrites inside one update is walked once, not once per link. */
  const placed = new Map<Y.Item, Placement>();

  /** Where an item written into a map sits, from its own parent or from the item it overwrites (held by the server). */
  const placeDirect = (item: Y.Item): Placement => {
    if (item.parent !== null) {
      const root: unknown = item.parent;
      if (typeof root !== 'string') return refuse('nested-type', 'writes into nested types are not allowed');
      if (item.parentSub === null) return refuse('unknown-root', `array insert into root ${root}`);
      return { root, key: item.parentSub };
    }
    if (item.origin === null) return refuse('unknown-root', 'an item without parent or origin');
    const origin = item.origin;
    if (origin.clock >= Y.getState(store, origin.client)) {
      return refuse('reset-required', 'the update depends on an item the server does not have');
    }
    const existing = Y.getItem(store, origin);
    const root = rootNames.get(existing.parent);
    if (root === undefined || existing.parentSub === null) return refuse('nested-type', 'overwrite of a non-map item');
    return { root, key: existing.parentSub, replaces: ownerOf(origin.client) ?? '' };
  };

  /**
   * Where an item written into a map sits: its root and key. An overwrite of
   * an item of this same update sits where that one does (and replaces the
   * user's own); the chain is followed without recursion, each link once.
   */
  const place = (item: Y.Item): Placement => {
    const chain: Y.Item[] = [];
    const inChain = new Set<Y.Item>([item]);
    let current: Y.Item = item;
    let found = placed.get(current);
    while (found === undefined) {
      const inUpdate = current.parent === null && current.origin !== null ? findLocal(current.origin) : undefined;
      if (inUpdate === undefined) {
        found = placeDirect(current);
        placed.set(current, found);
        break;
      }
      // Crafted origins may form a cycle; real ones never do.
      if (inChain.has(inUpdate)) return refuse('schema-invalid', 'an overwrite of itself');
      inChain.add(inUpdate);
      chain.push(current);
      current = inUpdate;
      found = placed.get(current);
    }
    for (const link of chain) {
      found = { root: found.root, key: found.key, replaces: user };
      placed.set(link, found);
    }
    return placed.get(item) ?? found;
  };

  /**
   * Where the rest of a struct the server holds in part goes: Yjs integrates
   * it after the held part (the item at `next - 1`), which it overwrites in
   * that item's key, whatever key the struct itself names. The two must agree.
   */
  const placeRest = (item: Y.Item, next: number): Placement => {
    const own = place(item);
    const left = Y.getItem(store, Y.createID(item.id.client, next - 1));
    const root = left instanceof Y.Item ? rootNames.get(left.parent) : undefined;
    if (!(left instanceof Y.Item) || root !== own.root || left.parentSub !== own.key) refuse('schema-invalid', 'a struct whose held part sits under another key');
    const placement = { root: own.root, key: own.key, replaces: user };
    placed.set(item, placement);
    return placement;
  };

  for (const struct of structs) {
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
    // Yjs writes a map entry with its left origin only: a right origin would place it elsewhere in the key's list (or delete it on arrival).
    if (struct.rightOrigin !== null) refuse('schema-invalid', 'a map entry carries a right origin');
    judgeItem(struct, clock < next ? placeRest(struct, next) : place(struct));
  }

  // Every reference must resolve as Yjs integrates the update, or it throws half-way or keeps structs pending.
  const order: (Y.Item | Y.GC)[] = [];
  const after = replayIntegration(structs, store, order);

  function judgeItem(item: Y.Item, { root, key, replaces }: Placement): void {
    if (item.content instanceof Y.ContentType) refuse('nested-type', 'nested shared types are not allowed');
    if (path.kind === 'inbox') refuse('read-only', 'only the server writes an inbox');
    if (root === SERVER_ROOTS.seq || root === SERVER_ROOTS.clients) refuse('read-only', `${root} is written by the server`);
    const allowed: readonly string[] = CLIENT_ROOTS[path.kind];
    if (!allowed.includes(root)) refuse('unknown-root', `no root ${root} in a ${path.kind} document`);
    if (root === 'messages') listMessage(key);
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
      checkTs(message.ts, now, tsWindow, `message ${key}'s time`);
      verdict.messages.push(message);
    } else if (path.kind === 'conversation' && root === 'receipts') {
      const [who, kind, extra] = key.split('|');
      if (who !== user || extra !== undefined || (kind !== 'delivered' && kind !== 'read')) refuse('not-owner', `receipt ${key} is not ${user}'s`);
      if (deleted) return;
      const receipt = Receipt.safeParse(value);
      if (!receipt.success) return refuse('schema-invalid', `receipt ${key}`);
      if (receipt.data.user !== user) refuse('not-author', `receipt names ${receipt.data.user}`);
      if (receipt.data.ts !== undefined) checkTs(receipt.data.ts, now, tsWindow, `receipt ${key}'s time`);
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
      if (!knownMessage(msgId)) refuse('message-not-found', `action ${key} is about no message of this document`);
      if (deleted) return;
      const action = MessageAction.safeParse(value);
      if (!action.success) return refuse('schema-invalid', `action ${key}: ${action.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (action.data.from !== user) refuse('not-author', `action names ${action.data.from}`);
      if (action.data.msg !== msgId || action.data.name !== name) refuse('schema-invalid', `action ${key} holds msg ${action.data.msg} and name ${action.data.name}`);
      if (actionDataBytes(action.data.data) > ACTION_MAX_BYTES) refuse('action-too-long', `action data over ${ACTION_MAX_BYTES} bytes`);
      checkTs(action.data.ts, now, tsWindow, `action ${key}'s time`);
      verdict.actions.push(action.data);
    } else if (path.kind === 'conversation' && root === 'recalls') {
      // A recall is final: written once, never overwritten or deleted.
      if (replaces !== undefined || recalls._map.has(key) || recalledHere.has(key)) refuse('message-recalled', `message ${key} is recalled already`);
      if (deleted) refuse('schema-invalid', `recalls[${key}] must hold a recall`);
      const recall = Recall.safeParse(value);
      if (!recall.success) return refuse('schema-invalid', `recall ${key}`);
      if (recall.data.by !== user) refuse('not-author', `recall names ${recall.data.by}`);
      checkTs(recall.data.ts, now, tsWindow, `recall ${key}'s time`);
      // Only a message the server accepted before: its author and time are known.
      const message = serverMessages.get(key);
      if (message === undefined) return refuse('message-not-found', `recall of ${key}, which this document does not hold`);
      if (message.from !== user) refuse('not-owner', `message ${key} was sent by ${message.from}`);
      if (now - message.ts > recallWindowMs) refuse('recall-window-passed', `message ${key} was sent ${Math.round((now - message.ts) / 1000)} s ago`);
      recalledHere.add(key);
      verdict.recalls.push({ msg: key, by: user });
    } else if (path.kind === 'conversation' && root === 'edits') {
      const [msgId = '', n, extra] = key.split('|');
      if (n === undefined || extra !== undefined || !/^[1-9][0-9]*$/.test(n)) refuse('schema-invalid', `edit key ${key} is not <msgId>|<n>`);
      if (deleted) {
        // Written and deleted before it was sent: only with the message's recall.
        deletions.push({ root, key });
        return;
      }
      if (replaces !== undefined || doc.getMap('edits')._map.has(key) || writtenEdits.has(key)) refuse('duplicate-id', `edit ${key} is written once`);
      writtenEdits.add(key);
      const edit = MessageEdit.safeParse(value);
      if (!edit.success) return refuse('schema-invalid', `edit ${key}: ${edit.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (edit.data.from !== user) refuse('not-author', `edit names ${edit.data.from}`);
      if (edit.data.msg !== msgId || String(edit.data.n) !== n) refuse('schema-invalid', `edit ${key} holds msg ${edit.data.msg} and n ${edit.data.n}`);
      checkTs(edit.data.ts, now, tsWindow, `edit ${key}'s time`);
      if (isRecalled(msgId)) refuse('message-recalled', `message ${msgId} was recalled`);
      const message = serverMessages.get(msgId);
      if (message === undefined) return refuse('message-not-found', `edit of ${msgId}, which this document does not hold`);
      if (message.from !== user || message.type !== 'text') refuse('not-editable', `message ${msgId} is a ${message.type} message from ${message.from}`);
      if (bodyBytes([{ type: 'text', text: edit.data.text }]) > LIMITS.bodyBytes) refuse('body-too-long', 'edited text over 12 KB');
      verdict.edits.push(edit.data);
    } else if (path.kind === 'conversation' && root === 'reactions') {
      const [msgId = '', who, emoji, extra] = key.split('|');
      if (who !== user || emoji === undefined || extra !== undefined) refuse('not-owner', `reaction ${key} is not ${user}'s`);
      if (deleted) return;
      const reaction = Reaction.safeParse(value);
      if (!reaction.success) return refuse('schema-invalid', `reaction ${key}: ${reaction.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (reaction.data.from !== user) refuse('not-author', `reaction names ${reaction.data.from}`);
      if (reaction.data.msg !== msgId || reaction.data.emoji !== emoji) refuse('schema-invalid', `reaction ${key} holds msg ${reaction.data.msg} and emoji ${reaction.data.emoji}`);
      checkTs(reaction.data.ts, now, tsWindow, `reaction ${key}'s time`);
      if (!knownMessage(msgId)) refuse('message-not-found', `reaction ${key} is about no message of this document`);
      if (isRecalled(msgId)) refuse('message-recalled', `message ${msgId} was recalled`);
      verdict.reactions.push(reaction.data);
    } else if (path.kind === 'conversation' && root === 'pins') {
      // Each member's pin of a message is their own item: pin again overwrites it, unpin deletes it.
      const [msgId = '', who, extra] = key.split('|');
      if (who !== user || extra !== undefined) refuse('not-owner', `pin ${key} is not ${user}'s`);
      if (deleted) return;
      const pin = MessagePin.safeParse(value);
      if (!pin.success) return refuse('schema-invalid', `pin ${key}: ${pin.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (pin.data.from !== user) refuse('not-author', `pin names ${pin.data.from}`);
      if (pin.data.msg !== msgId) refuse('schema-invalid', `pin ${key} holds msg ${pin.data.msg}`);
      checkTs(pin.data.ts, now, tsWindow, `pin ${key}'s time`);
      if (!knownMessage(msgId)) refuse('message-not-found', `pin ${key} is about no message of this document`);
      if (isRecalled(msgId)) refuse('message-recalled', `message ${msgId} was recalled`);
    } else if (path.kind === 'prefs' && (root === 'hidden' || root === 'starred')) {
      // "Delete for me" and stars: keyed by message id, capped so that the prefs document stays small.
      if (path.user !== user) refuse('not-owner', 'prefs are written by their owner');
      if (!MessageId.safeParse(key).success) refuse('schema-invalid', `a ${root} key must be a message id`);
      if (deleted) return;
      const mark = (root === 'hidden' ? HiddenMessage : StarredMessage).safeParse(value);
      if (!mark.success) return refuse('schema-invalid', `${root} ${key}: ${mark.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      checkTs(mark.data.ts, now, tsWindow, `${root} ${key}'s time`);
      const map = doc.getMap<unknown>(root);
      if (map.has(key)) return;
      const added = addedMarks[root];
      added.add(key);
      const held = heldMarks.get(root) ?? map.size;
      heldMarks.set(root, held);
      const cap = maxMarkedMessages ?? (root === 'hidden' ? LIMITS.hiddenMessages : LIMITS.starredMessages);
      if (held + added.size > cap) refuse('prefs-full', `more than ${cap} ${root} messages`);
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
    } else if (path.kind === 'prefs' && (root === 'pinned' || root === 'archived' || root === 'drafts')) {
      if (path.user !== user) refuse('not-owner', 'prefs are written by their owner');
      if (!isUserId(key)) refuse('schema-invalid', `a ${root} key must be a user id`);
      if (deleted) return;
      if (root === 'drafts') {
        const text = (value as { text?: unknown } | null)?.text;
        if (typeof text === 'string' && text.length > LIMITS.draftLength) refuse('draft-too-long', `draft of ${text.length} characters`);
      }
      const schema = root === 'pinned' ? PinSetting : root === 'archived' ? ArchiveSetting : Draft;
      const setting = schema.safeParse(value);
      if (!setting.success) return refuse('schema-invalid', `${root} ${key}: ${setting.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    } else {
      // Every client root has a branch above; a root without one is never let through unchecked.
      refuse('unknown-root', `no rules for root ${root} in a ${path.kind} document`);
    }
  }

  // Deletions: a client sends its whole delete set on every sync, so the ones
  // the server has applied already are skipped; the rest must be the user's.
  // A deletion must be of clocks the document holds once the update's own
  // structs are in: Yjs keeps any other (pendingDs) and deletes what arrives
  // there later, such as a recall marker. What the update itself adds and
  // deletes is judged as a deletion of its key, like what the server holds.
  for (const [client, ranges] of ds.clients) {
    // An empty range past the clocks held is kept pending, and Yjs then fails to encode it; no encoder writes one.
    if (ranges.some((r) => r.len <= 0)) refuse('schema-invalid', `an empty deletion range of client ${client}`);
    if (ranges.some((r) => !exactClocks(r.clock, r.len))) refuse('schema-invalid', `a deletion range of client ${client} past ${Number.MAX_SAFE_INTEGER} clocks`);
    for (const { clock, len } of mergeRanges(ranges)) {
      if (allDeleted(store, client, clock, len)) continue;
      empty = false;
      const owner = ownerOf(client);
      if (owner !== user && !(owner === SERVER_CLAIM && path.kind === 'conversation' && ownMessagesOnly(client, clock, len))) {
        refuse('not-owner', `deletion of items written by another user (client ${client})`);
      }
      const held = after.get(client) ?? Y.getState(store, client);
      if (clock >= held || clock + len > held) refuse('reset-required', `deletion of clocks ${clock}..${clock + len} of client ${client}, which holds up to ${held}`);
      if (path.kind !== 'conversation') continue;
      forEachLiveItem(store, client, clock, len, (item) => {
        const root = rootNames.get(item.parent);
        if (root === undefined || item.parentSub === null) return refuse('nested-type', 'deletion of a non-map item');
        deletions.push({ root, key: item.parentSub });
      });
      forEachNewItem(local.get(client) ?? [], clock, len, (item) => {
        const placement = placed.get(item);
        if (placement !== undefined && !(item.content instanceof Y.ContentDeleted)) deletions.push({ root: placement.root, key: placement.key });
      });
    }
  }
  // A message's content, and its edits, go only with its recall (in this update or before).
  for (const { root, key } of deletions) {
    if (root === 'recalls') refuse('message-recalled', `recall of ${key} is final`);
    if (root === 'messages' && !isRecalled(key)) refuse('not-owner', `message ${key} may be deleted only by recalling it (recalls[${key}])`);
    if (root === 'edits' && !isRecalled(key.split('|')[0] ?? '')) refuse('not-owner', `edit ${key} may be deleted only with its message's recall`);
  }

  verdict.newClients = [...newClients];
  return { ok: true, ...verdict, empty, decoded: { bytes: update, order, ds, meta: sectionClocks(structs) } };
}

/**
 * Per client section, the clock of its first struct and the clock after its
 * last, Skips counted: what Y.parseUpdateMeta reads from the bytes, taken
 * from the structs decoded here instead.
 */
function sectionClocks(structs: readonly DecodedStruct[]): { from: Map<number, number>; to: Map<number, number> } {
  const from = new Map<number, number>();
  const to = new Map<number, number>();
  for (const struct of structs) {
    const { client, clock } = struct.id;
    if (!from.has(client)) from.set(client, clock);
    to.set(client, clock + struct.length);
  }
  return { from, to };
}

/**
 * A client's deletion ranges sorted and merged: an update may repeat or
 * overlap ranges, and each range walks the server's structs it covers, so
 * unmerged ranges would make a small update cost a multiple of the document.
 */
function mergeRanges(ranges: readonly { clock: number; len: number }[]): { clock: number; len: number }[] {
  const sorted = [...ranges].sort((x, y) => x.clock - y.clock);
  const merged: { clock: number; len: number }[] = [];
  for (const { clock, len } of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && clock <= last.clock + last.len) last.len = Math.max(last.len, clock + len - last.clock);
    else merged.push({ clock, len });
  }
  return merged;
}

/** Calls `visit` with each item of the server's store in the range that is not deleted yet. */
function forEachLiveItem(store: Y.Doc['store'], client: number, clock: number, len: number, visit: (item: Y.Item) => void): void {
  const structs = store.clients.get(client);
  if (structs === undefined) return;
  const end = Math.min(clock + len, Y.getState(store, client));
  if (clock >= end) return;
  for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
    const s = structs[i];
    if (s === undefined || s.id.clock >= end) break;
    if (s instanceof Y.Item && !s.deleted) visit(s);
  }
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

/**
 * Whether every clock from `clock` to `clock + length` is an exact number.
 * Yjs adds and subtracts clocks as doubles: past 2^53 a sum rounds (2^53 + 3
 * is 2^53 + 4), so Yjs looks for a struct's last clock past its end and throws
 * half-way through an update (in `tryMergeDeleteSet`, once its structs are
 * in). No real client comes near: one clock is one inserted item or character.
 */
function exactClocks(clock: number, length: number): boolean {
  return Number.isSafeInteger(clock + length);
}

/**
 * Each client's structs in one section, no empty struct, and no struct whose
 * clocks reach past 2^53 (see exactClocks): Yjs keeps only the last section
 * of a client (the structs of the others are dropped, or wait for clocks that
 * never come), and integrates an empty struct where no clock follows. No Yjs
 * encoder writes any of these. Counted from the decoded
 * structs: a section is a run of one client's consecutive clocks, and the
 * update says how many sections it has.
 */
function checkSections(update: Uint8Array, structs: readonly DecodedStruct[]): void {
  const sections = decoding.readVarUint(decoding.createDecoder(update));
  const seen = new Set<number>();
  let runs = 0;
  let client = -1;
  let next = -1;
  for (const struct of structs) {
    if (struct.length <= 0) refuse('schema-invalid', `an empty struct at ${struct.id.client}:${struct.id.clock}`);
    if (!exactClocks(struct.id.clock, struct.length)) refuse('schema-invalid', `a struct at ${struct.id.client}:${struct.id.clock} reaching past ${Number.MAX_SAFE_INTEGER} clocks`);
    if (struct.id.client !== client || struct.id.clock !== next) {
      client = struct.id.client;
      if (seen.has(client)) refuse('schema-invalid', `client ${client} in more than one section`);
      seen.add(client);
      runs++;
    }
    next = struct.id.clock + struct.length;
  }
  if (runs !== sections) refuse('schema-invalid', `${sections} sections but ${runs} runs of one client's clocks: a client in two sections, or an empty section`);
}

/**
 * Yjs's integration of an update's structs (integrateStructs in
 * yjs/src/utils/encoding.js) replayed on clocks alone, the document
 * untouched: clients from the highest id, a struct that refers to another
 * client's clock not reached yet waits on a stack while that client's next
 * structs go in. Refused where Yjs would keep structs pending (a clock gap, a
 * reference to a clock neither the server nor the update holds, references
 * in a cycle) or would throw (a reference to its own client's clock not
 * reached yet: Yjs does not wait for those). Structs the server holds are
 * replayed too: Yjs resolves their references before it skips them.
 * Linear: each struct is taken from its client once and pushed at most once.
 * Returns each client's next clock after the update; `order` receives the
 * structs in the order Yjs integrates them (or, held already, skips them).
 */
function replayIntegration(structs: readonly DecodedStruct[], store: Y.Doc['store'], order: (Y.Item | Y.GC)[]): Map<number, number> {
  const byClient = new Map<number, { i: number; refs: DecodedStruct[] }>();
  for (const struct of structs) {
    const refs = byClient.get(struct.id.client);
    if (refs === undefined) byClient.set(struct.id.client, { i: 0, refs: [struct] });
    else refs.refs.push(struct);
  }
  const state = new Map<number, number>();
  const stateOf = (client: number): number => state.get(client) ?? Y.getState(store, client);
  const pending = (why: string): never => refuse('reset-required', `the update depends on an item the server does not have (${why})`);
  /** The client of a reference to a clock not reached yet, as Yjs's Item.getMissing checks them: other clients only. */
  const missingOf = (struct: DecodedStruct): number | null => {
    if (!(struct instanceof Y.Item)) return null;
    for (const ref of references(struct)) if (ref.client !== struct.id.client && ref.clock >= stateOf(ref.client)) return ref.client;
    return null;
  };
  const clients = [...byClient.keys()].sort((a, b) => a - b);
  const nextTarget = (): { i: number; refs: DecodedStruct[] } | null => {
    for (let client = clients.at(-1); client !== undefined; client = clients.at(-1)) {
      const target = byClient.get(client);
      if (target !== undefined && target.i < target.refs.length) return target;
      clients.pop();
    }
    return null;
  };
  let target = nextTarget();
  const stack: DecodedStruct[] = [];
  let head = target === null ? undefined : target.refs[target.i++];
  while (head !== undefined) {
    if (!(head instanceof Y.Skip)) {
      const { client, clock } = head.id;
      if (clock > stateOf(client)) pending(`clock gap for client ${client}`);
      const missing = missingOf(head);
      if (missing !== null) {
        stack.push(head);
        const refs = byClient.get(missing);
        if (refs === undefined || refs.i >= refs.refs.length) pending(`a clock of client ${missing}`);
        head = refs?.refs[refs.i++];
        continue;
      }
      if (head instanceof Y.Item) {
        for (const ref of references(head)) if (ref.client === client && ref.clock >= stateOf(client)) pending(`a clock of its own client ${client} not reached`);
      }
      order.push(head);
      if (clock + head.length > stateOf(client)) state.set(client, clock + head.length);
    }
    if (stack.length > 0) head = stack.pop();
    else if (target !== null && target.i < target.refs.length) head = target.refs[target.i++];
    else {
      target = nextTarget();
      head = target === null ? undefined : target.refs[target.i++];
    }
  }
  return state;
}

/** The ids an item refers to, which Yjs looks up when it integrates it: origin, right origin, and a parent given by id. */
function references(item: Y.Item): Y.ID[] {
  const refs: Y.ID[] = [];
  if (item.origin !== null) refs.push(item.origin);
  if (item.rightOrigin !== null) refs.push(item.rightOrigin);
  if (item.parent instanceof Y.ID) refs.push(item.parent);
  return refs;
}

/** Calls `visit` with each item of `items` (one client's new items, in clock order) that meets the range. */
function forEachNewItem(items: readonly Y.Item[], clock: number, len: number, visit: (item: Y.Item) => void): void {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const item = items[mid] as Y.Item;
    if (item.id.clock + item.length <= clock) low = mid + 1;
    else high = mid;
  }
  for (let i = low; i < items.length; i++) {
    const item = items[i] as Y.Item;
    if (item.id.clock >= clock + len) break;
    visit(item);
  }
}
