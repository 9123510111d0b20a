/**
 * The hub keeps the device's documents in step with the server and the
 * materialised tables in step with the documents. Open documents, and why:
 *
 *   inbox/<me>            always while signed in (the device is "online" for push)
 *   prefs/<me>            always: read markers, muted conversations
 *   c2c/… (open)          the segments of the conversation on screen
 *   c2c/… (outbox)        a segment with writes not yet acknowledged
 *   c2c/… (background)    a segment the inbox says changed: synced, materialised,
 *                         receipted, then closed (a few at a time)
 *   c2c/… (history)       an older segment the user scrolled to: synced,
 *                         materialised, then closed (lib/sync/segments.ts)
 *
 * Control frames: `ack` empties the outbox; `reject` marks the refused
 * messages failed and resets the document (see SyncedDoc.reset), except
 * `slow-down`, after which they stay pending and the document's writes wait
 * (lib/sync/slowDown.ts) and then go again by themselves; `refused` with an
 * expired token refreshes it and reconnects; too-many-sockets and
 * too-many-docs (the account holds too much open on other tabs and devices)
 * try again later, backing off; storage-full, storage-unavailable and
 * internal on an open socket (the server dropped its copy after a write it
 * could not store) reconnect by themselves and sync again; other refusals
 * stop.
 */
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import {
  conversationId,
  conversationPath,
  inboxPath,
  parseDocPath,
  prefsPath,
  receiptKey,
  segmentOf,
  CLOSE_SERVICE_RESTART,
  RESYNC_REFUSALS,
  type ControlFrame,
  type ErrorCode,
} from '@parley/protocol';
import { db, type MessageRow, type ReceiptRow, type RelationRow } from '../db.ts';
import { conversationRow, profileRow, receiptSeq, relationRow } from './materialise.ts';
import { observeActions } from './actions.ts';
import { acknowledge, failMessages, holdsOpen, pendingPaths, reapply, reject } from './outbox.ts';
import { attachExtras, inboxChangedAfterRecall } from './extras.ts';
import { projectInbox, projectSegment } from './projector.ts';
import { SyncedDoc } from './syncedDoc.ts';
import { SlowDown } from './slowDown.ts';
import { markRead, observePrefs, setMuted } from './prefs.ts';
import { BackgroundSync } from './background.ts';
import { observeBatches } from './batch.ts';
import { clientEvents, newMessages, type MessageEvent } from '../client/events.ts';

export interface HubContext {
  me: string;
  /** `ws(s)://host/sync` */
  wsBase: string;
  token: () => string;
  /** The server said the token expired: refresh it (the hub reconnects afterwards). */
  tokenExpired: () => Promise<void>;
  /** A document refused: for good (not a member, unknown path), or for now (too many open for the account; retried). */
  refused: (path: string, code: ErrorCode) => void;
  typing: (peer: string, typing: boolean) => void;
  /** The peer has this conversation open on some device (awareness `here`, see openConversation). */
  online?: (peer: string, online: boolean) => void;
  syncing: (busy: boolean) => void;
  /** Whether the server answers (from the inbox socket): navigator.onLine alone is not to be trusted. */
  reachable: (reachable: boolean) => void;
  error: (e: unknown) => void;
}

type Hold = 'inbox' | 'prefs' | 'open' | 'outbox' | 'background' | 'history';

interface Entry {
  synced: SyncedDoc;
  holds: Set<Hold>;
  /** The highest sequence of the peer's messages materialised from this segment. */
  maxPeerSeq: number;
  /** Pending materialisation writes, awaited before a background document closes. */
  writes: Promise<unknown>;
}

/** How long a background segment stays open after it synced, for its receipt to be acknowledged. */
const BACKGROUND_LINGER_MS = 1500;
const BACKGROUND_TIMEOUT_MS = 20_000;

const isVisible = (): boolean => typeof document === 'undefined' || document.visibilityState === 'visible';

export class SyncHub {
  readonly #ctx: HubContext;
  readonly #docs = new Map<string, Entry>();
  #openPeer: string | null = null;
  /** Peers typing to me: heard in an open conversation's awareness, or relayed by the server into my inbox's. */
  readonly #typing = { conversation: new Set<string>(), inbox: new Set<string>() };
  /** The inbox is connected and catching up (the conversation list's sync, as the hosted SDKs' onSyncServerStart). */
  #inboxCatchingUp = false;
  #stopped = false;
  #tokenRefreshing = false;
  readonly #listeners: [EventTarget, string, () => void][] = [];

  readonly #background: BackgroundSync;
  /** Documents whose writes wait after a `slow-down`. */
  readonly #slow = new SlowDown();
  readonly #slowTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(ctx: HubContext) {
    this.#ctx = ctx;
    this.#background = new BackgroundSync({
      me: ctx.me,
      sync: (path) => this.#syncInBackground(path),
      changed: () => this.#reportSyncing(),
      active: () => navigator.onLine && !this.#stopped,
      error: ctx.error,
    });
  }

  get me(): string {
    return this.#ctx.me;
  }

  start(): void {
    const online = (): void => this.connectAll();
    const offline = (): void => this.disconnectAll();
    const visible = (): void => {
      if (!isVisible()) return;
      this.connectAll();
      this.#refreshReceipts();
    };
    this.#listen(window, 'online', online);
    this.#listen(window, 'offline', offline);
    this.#listen(document, 'visibilitychange', visible);
    this.#acquire(inboxPath(this.me), 'inbox');
    this.#acquire(prefsPath(this.me), 'prefs');
    void this.#resumeOutbox().catch(this.#ctx.error);
  }

  stop(): void {
    this.#stopped = true;
    this.#background.stop();
    for (const timer of this.#slowTimers.values()) clearTimeout(timer);
    this.#slowTimers.clear();
    for (const [target, type, fn] of this.#listeners.splice(0)) target.removeEventListener(type, fn);
    for (const entry of this.#docs.values()) entry.synced.destroy();
    this.#docs.clear();
  }

  #listen(target: EventTarget, type: string, fn: () => void): void {
    target.addEventListener(type, fn);
    this.#listeners.push([target, type, fn]);
  }

  connectAll(): void {
    if (!navigator.onLine) return;
    for (const entry of this.#docs.values()) entry.synced.connect();
    this.#background.retryAll();
  }

  disconnectAll(): void {
    for (const entry of this.#docs.values()) entry.synced.disconnect();
  }

  // ---- documents and holds ---------------------------------------------------

  #acquire(path: string, hold: Hold): Entry {
    let entry = this.#docs.get(path);
    if (entry === undefined) {
      const synced = new SyncedDoc({
        path,
        wsBase: this.#ctx.wsBase,
        token: () => this.#ctx.token(),
        shouldConnect: () => navigator.onLine && !this.#stopped,
        hooks: {
          attach: (doc, provider, sd) => this.#attach(doc, provider, sd),
          control: (frame, sd) => void this.#control(frame, sd).catch(this.#ctx.error),
          synced: (sd) => this.#onSynced(sd),
          error: this.#ctx.error,
        },
      });
      entry = { synced, holds: new Set(), maxPeerSeq: 0, writes: Promise.resolve() };
      this.#docs.set(path, entry);
      synced.ready.catch(this.#ctx.error);
    }
    entry.holds.add(hold);
    return entry;
  }

  #release(path: string, hold: Hold): void {
    const entry = this.#docs.get(path);
    if (entry === undefined) return;
    entry.holds.delete(hold);
    if (entry.holds.size === 0) {
      entry.synced.destroy();
      this.#docs.delete(path);
    }
  }

  /** The loaded document of a conversation segment, kept open while it has outbox writes. */
  async conversationDoc(peer: string, segment: string): Promise<SyncedDoc> {
    const entry = this.#acquire(conversationPath(this.me, peer, segment), 'outbox');
    await entry.synced.ready;
    return entry.synced;
  }

  /**
   * Writes the outbox entries of a segment that its document lacks: a media
   * message whose uploads just finished goes out the way every write does.
   */
  async flushOutbox(path: string): Promise<void> {
    const entry = this.#acquire(path, 'outbox');
    await entry.synced.ready;
    await this.#reconcileOutbox(entry.synced);
  }

  /** Whether writes to `path` wait after a `slow-down` (the outbox keeps them; they go when the wait ends). */
  isWaiting(path: string): boolean {
    return this.#slow.waitOf(path) > 0;
  }

  /** The person asked to send now: the wait after a `slow-down` ends, and the writes go. */
  async sendNow(path: string): Promise<void> {
    this.#slow.clear(path);
    clearTimeout(this.#slowTimers.get(path));
    this.#slowTimers.delete(path);
    await this.flushOutbox(path);
  }

  /** After a `slow-down`: the document's writes wait, then the outbox is reconciled again (once synced; onSynced does it otherwise). */
  #waitThenResend(path: string, retryAfterMs: number | undefined): void {
    const wait = this.#slow.refused(path, retryAfterMs);
    clearTimeout(this.#slowTimers.get(path));
    this.#slowTimers.set(
      path,
      setTimeout(() => {
        this.#slowTimers.delete(path);
        const entry = this.#docs.get(path);
        if (entry !== undefined && entry.synced.synced) void this.#reconcileOutbox(entry.synced).catch(this.#ctx.error);
      }, wait),
    );
  }

  /** The conversation on screen: its current segment and the newest one holding messages. */
  async openConversation(peer: string | null): Promise<void> {
    if (peer === this.#openPeer) return;
    const previous = this.#openPeer;
    this.#openPeer = peer;
    if (previous !== null) {
      this.setTyping(previous, false);
      this.#setHere(previous, false);
      for (const [path, entry] of [...this.#docs]) if (entry.holds.has('open')) this.#release(path, 'open');
      this.#setTyping('conversation', previous, false);
      this.#ctx.online?.(previous, false);
    }
    if (peer === null) return;
    const segments = new Set([segmentOf(Date.now())]);
    const row = await db.conversations.get(peer);
    if (row !== undefined) segments.add(row.segment);
    if (this.#openPeer !== peer) return;
    for (const segment of segments) this.#acquire(conversationPath(this.me, peer, segment), 'open');
    this.#refreshReceipts();
    // Presence: this device shows the conversation (the peer's header says "online").
    await this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())))?.synced.ready.catch(() => undefined);
    if (this.#openPeer === peer) this.#setHere(peer, true);
  }

  /** Awareness `here` in the open conversation's current segment: which conversation this device shows. */
  #setHere(peer: string, here: boolean): void {
    const awareness = this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())))?.synced.provider?.awareness;
    const value = here ? peer : null;
    if (awareness !== undefined && (awareness.getLocalState() as { here?: unknown } | null)?.here !== value) awareness.setLocalStateField('here', value);
  }

  /** The newest segment holding messages, known from the server's list rather than the inbox: held open too. */
  holdOpen(peer: string, segment: string): void {
    if (peer === this.#openPeer) this.#acquire(conversationPath(this.me, peer, segment), 'open');
  }

  /**
   * Syncs one segment of history and materialises it, then closes it (unless
   * something else holds it). Resolves false when it could not sync (offline,
   * refused, timed out).
   */
  async syncHistory(peer: string, segment: string, timeoutMs = BACKGROUND_TIMEOUT_MS): Promise<boolean> {
    const path = conversationPath(this.me, peer, segment);
    const entry = this.#acquire(path, 'history');
    try {
      await entry.synced.ready;
      const synced = await Promise.race([entry.synced.whenSynced().then(() => true), delay(timeoutMs).then(() => false)]);
      await entry.writes;
      return synced && !entry.synced.refused;
    } finally {
      this.#release(path, 'history');
    }
  }

  /** Typing state, in the awareness of the open conversation's current segment. */
  setTyping(peer: string, typing: boolean): void {
    const entry = this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())));
    const awareness = entry?.synced.provider?.awareness;
    if (awareness === undefined) return;
    const value = typing ? peer : null;
    if ((awareness.getLocalState() as { typing?: unknown } | null)?.typing !== value) {
      awareness.setLocalStateField('typing', value);
    }
  }

  #setTyping(source: 'conversation' | 'inbox', peer: string, typing: boolean): void {
    if (typing) this.#typing[source].add(peer);
    else this.#typing[source].delete(peer);
    this.#ctx.typing(peer, this.#typing.conversation.has(peer) || this.#typing.inbox.has(peer));
  }

  /** The server's state in my inbox's awareness (sync-server/src/sync/typing.ts): the peers typing to me now. */
  #relayedTyping(awareness: WebsocketProvider['awareness'], own: number): void {
    const typing = new Set<string>();
    for (const [client, state] of awareness.getStates()) {
      const s = state as { user?: unknown; typing?: unknown };
      // Devices' states carry their user (the server sets it); the server's own has none.
      if (client === own || s.user !== undefined || !Array.isArray(s.typing)) continue;
      for (const peer of s.typing) if (typeof peer === 'string') typing.add(peer);
    }
    for (const peer of [...this.#typing.inbox]) if (!typing.has(peer)) this.#setTyping('inbox', peer, false);
    for (const peer of typing) if (!this.#typing.inbox.has(peer)) this.#setTyping('inbox', peer, true);
  }

  // ---- observers -------------------------------------------------------------

  #attach(doc: Y.Doc, provider: WebsocketProvider, sd: SyncedDoc): () => void {
    const path = parseDocPath(sd.path);
    if (path?.kind === 'conversation') return this.#attachConversation(doc, provider, sd, path);
    if (path?.kind === 'inbox') return this.#attachInbox(doc, provider);
    if (path?.kind === 'prefs') return this.#attachPrefs(doc);
    return () => {};
  }

  #attachConversation(
    doc: Y.Doc,
    provider: WebsocketProvider,
    sd: SyncedDoc,
    path: { a: string; b: string; segment: string },
  ): () => void {
    const me = this.me;
    const peer = path.a === me ? path.b : path.a;
    const conv = conversationId(path.a, path.b);
    const messages = doc.getMap<unknown>('messages');
    const seqs = doc.getMap<unknown>('seq');
    const receipts = doc.getMap<unknown>('receipts');
    const entry = this.#docs.get(sd.path);
    // Edits, reactions, replies and recalls: rows are built with them (extras.ts).
    // After a recall: the inbox's stored updates hold the old preview, the prefs document's the message's draft.
    const compactInbox = async (): Promise<void> => {
      await this.#docs.get(inboxPath(me))?.synced.compact();
      await this.#docs.get(prefsPath(me))?.synced.compact();
    };
    const extras = attachExtras(doc, { me, peer, segment: path.segment, synced: sd, compactInbox, error: this.#ctx.error });

    const materialise = (ids: Set<string>, receiptKeys: Iterable<string>): Promise<unknown> => {
      const rows: MessageRow[] = [];
      let peerNickname: string | undefined;
      for (const id of ids) {
        const row = extras.rowOf(id);
        if (row === null) continue;
        rows.push(row);
        if (row.from === peer) peerNickname = row.nickname;
        if (entry !== undefined && row.from === peer && row.seq !== null && row.seq > entry.maxPeerSeq) entry.maxPeerSeq = row.seq;
      }
      const receiptRows: ReceiptRow[] = [];
      for (const key of receiptKeys) {
        const seq = receiptSeq(receipts.get(key));
        if (seq !== null) receiptRows.push({ id: `${conv}|${key}`, conv, seq });
      }
      // A peer known only from their messages still gets a name in the list.
      const write = projectSegment(rows, receiptRows, peer, peerNickname)
        .then(() => this.#writeReceipts(sd))
        .catch(this.#ctx.error);
      return write;
    };
    const detach = observeBatches(doc, [messages, seqs, receipts], (changed, initial) => {
      const ids = new Set([...(changed.get(messages) ?? []), ...(changed.get(seqs) ?? [])]);
      const receiptKeys = changed.get(receipts) ?? [];
      let write: Promise<unknown>;
      if (initial && ids.size > 0) {
        // Loaded from the store, whose updates were materialised as they came: only the messages the table
        // lacks (or holds from a push) are built and written again, so that opening a long segment does not
        // rewrite thousands of rows (lib/sync/segments.ts). The peer's highest sequence counts them all, for receipts.
        for (const id of ids) {
          const seq = seqs.get(id);
          const from = (messages.get(id) as { from?: unknown } | undefined)?.from;
          if (entry !== undefined && from === peer && typeof seq === 'number' && seq > entry.maxPeerSeq) entry.maxPeerSeq = seq;
        }
        write = storedIds(conv, ids, seqs)
          .then((stored) => materialise(new Set([...ids].filter((id) => !stored.has(id))), receiptKeys))
          .catch(this.#ctx.error);
      } else {
        write = materialise(ids, receiptKeys);
      }
      if (entry !== undefined) entry.writes = entry.writes.then(() => write);
    });

    const awareness = provider.awareness;
    const current = path.segment === segmentOf(Date.now());
    const onAwareness = (): void => {
      let typing = false;
      let here = false;
      for (const [client, state] of awareness.getStates()) {
        if (client === doc.clientID) continue;
        const s = state as { user?: unknown; typing?: unknown; here?: unknown };
        if (s.user === peer && s.typing === me) typing = true;
        if (s.user === peer && s.here === me) here = true;
      }
      this.#setTyping('conversation', peer, typing);
      // Only the current segment carries `here`: another segment's awareness says nothing about it.
      if (current) this.#ctx.online?.(peer, here);
    };
    awareness.on('change', onAwareness);
    const detachActions = observeActions(doc, conv, this.#ctx.error);
    return () => {
      detach();
      detachActions();
      extras.detach();
      awareness.off('change', onAwareness);
      if (current) this.#ctx.online?.(peer, false);
    };
  }

  #attachInbox(doc: Y.Doc, provider: WebsocketProvider): () => void {
    const conversations = doc.getMap<unknown>('conversations');
    const profiles = doc.getMap<unknown>('profiles');
    const catchingUp = (value: boolean): void => {
      this.#inboxCatchingUp = value;
      this.#reportSyncing();
    };
    const onStatus = ({ status }: { status: string }): void => {
      if (status === 'connected') this.#ctx.reachable(true);
      catchingUp(status === 'connected' && !provider.synced);
    };
    // A close we did not ask for (event null is our own) that is no refusal (44xx) means the server is out of reach,
    // unless its process is restarting (1012): y-websocket reconnects at once, through a proxy to another process,
    // and a failed attempt says unreachable then (connection-error).
    const onClose = (event: CloseEvent | null): void => {
      if (event !== null && !(event.code >= 4400 && event.code < 4500) && event.code !== CLOSE_SERVICE_RESTART) this.#ctx.reachable(false);
      catchingUp(false);
    };
    const onError = (): void => this.#ctx.reachable(false);
    provider.on('status', onStatus);
    provider.on('connection-close', onClose);
    provider.on('connection-error', onError);
    const onAwareness = (): void => this.#relayedTyping(provider.awareness, doc.clientID);
    provider.awareness.on('change', onAwareness);
    // Whether this device's inbox has been in step with the server before (a stored copy, or a sync since):
    // until then a conversation new to the device is history, not news (client/events.ts newMessages).
    let known = doc.store.clients.size > 0;
    const onSync = (isSynced: boolean): void => {
      if (isSynced) known = true;
      if (isSynced) catchingUp(false);
    };
    provider.on('sync', onSync);
    const relationMaps = (['friends', 'blocklist', 'requests'] as const).map((name) => [name, doc.getMap<unknown>(name)] as const);
    const detach = observeBatches(doc, [conversations, profiles, ...relationMaps.map(([, m]) => m)], (changed) => {
      // A block or an unblock decides whether receipts are written (#writeReceipts): catch them up after an unblock.
      if ([...(changed.get(doc.getMap<unknown>('blocklist')) ?? [])].length > 0) this.#refreshReceipts();
      const convRows = [...(changed.get(conversations) ?? [])].map((k) => conversationRow(conversations.get(k)));
      const profileRows = [...(changed.get(profiles) ?? [])].map((k) => profileRow(profiles.get(k)));
      const relationPuts: RelationRow[] = [];
      const relationDeletes: string[] = [];
      for (const [name, map] of relationMaps) {
        for (const key of changed.get(map) ?? []) {
          const row = map.has(key) ? relationRow(name, key, map.get(key)) : null;
          if (row !== null) relationPuts.push(row);
          else if (name === 'requests') relationDeletes.push(key);
          else relationDeletes.push(`${name === 'friends' ? 'friend' : 'block'}|${key}`);
        }
      }
      const live = known;
      let news: MessageEvent[] = [];
      const rows = convRows.filter((r) => r !== null);
      // A row a push wrote is ahead of this (possibly stale, local) inbox copy until the inbox reaches its sequence.
      projectInbox(rows, profileRows.filter((r) => r !== null), relationPuts, relationDeletes)
        .then((held) => {
          news = newMessages(rows, held, live);
          // An entry rewritten after a recall: the stored inbox updates still hold the old preview.
          if (inboxChangedAfterRecall(changed.get(conversations) ?? [])) void this.#docs.get(inboxPath(this.me))?.synced.compact().catch(this.#ctx.error);
          for (const row of rows) clientEvents.emit('conversation', { peer: row.peer });
          for (const event of news) clientEvents.emit('message', event);
        })
        .then(() => this.#background.schedule())
        .catch(this.#ctx.error);
    });
    return () => {
      detach();
      provider.off('status', onStatus);
      provider.off('connection-close', onClose);
      provider.off('connection-error', onError);
      provider.off('sync', onSync);
      provider.awareness.off('change', onAwareness);
      for (const peer of [...this.#typing.inbox]) this.#setTyping('inbox', peer, false);
      catchingUp(false);
    };
  }

  #attachPrefs(doc: Y.Doc): () => void {
    // A read marker that moved (maybe from another device) may leave a conversation's read receipt behind.
    return observePrefs(doc, { onError: this.#ctx.error, onRead: () => this.#background.schedule() });
  }

  /** The prefs document, loaded: lib/sync/prefs.ts writes pins, archives, drafts and mutes into it. */
  async prefsDoc(): Promise<Y.Doc | null> {
    const prefs = this.#docs.get(prefsPath(this.me))?.synced;
    if (prefs === undefined) return null;
    await prefs.ready;
    return prefs.doc;
  }

  /** Mutes or unmutes a conversation for all the user's devices (prefs' `muted[peer]`; the server sends no push for it). */
  async setMuted(peer: string, value: boolean): Promise<void> {
    const doc = await this.prefsDoc();
    if (doc !== null) setMuted(doc, peer, value);
  }

  // ---- receipts and read markers ---------------------------------------------

  /**
   * Delivered: the highest sequence of the peer's messages this device holds.
   * Read: the same while the conversation is open and visible, and at least
   * the user's read marker in prefs (which a read on another device, or on
   * this one offline, moved); the marker is raised with every read, offline
   * too (lib/sync/prefs.ts merges markers, the furthest wins), so that the
   * user's other devices and the inbox's unread agree. A receipt is written
   * only when higher than the document holds, and only once synced, so that
   * a stale copy never writes backwards.
   */
  #writeReceipts(sd: SyncedDoc): void {
    const entry = this.#docs.get(sd.path);
    const path = parseDocPath(sd.path);
    if (entry === undefined || path?.kind !== 'conversation') return;
    const me = this.me;
    const peer = path.a === me ? path.b : path.a;
    // Old history read for display changes no receipt: the newest segments carry them.
    if (entry.holds.size === 1 && entry.holds.has('history')) return;
    const seq = entry.maxPeerSeq;
    const reading = peer === this.#openPeer && isVisible();
    if (reading && seq > 0) this.#markRead(peer, seq);
    if (!sd.synced) return;
    // Someone this user blocks sees no new delivered or read state of theirs (the server refuses such a
    // receipt: docs/security.md, "Presence"); the read marker above stays this user's own. After an unblock,
    // the blocklist's change writes them again (#attachInbox).
    if (this.#blocks(peer)) return;
    const marker = receiptSeq(this.#docs.get(prefsPath(me))?.synced.doc.getMap<unknown>('read').get(peer)) ?? 0;
    const read = Math.max(reading ? seq : 0, marker);
    const receipts = sd.doc.getMap<unknown>('receipts');
    const raise = (key: string, value: number): void => {
      if (value > 0 && (receiptSeq(receipts.get(key)) ?? 0) < value) receipts.set(key, { user: me, seq: value });
    };
    sd.doc.transact(() => {
      raise(receiptKey(me, 'delivered'), seq);
      raise(receiptKey(me, 'read'), read);
    });
  }

  /** Whether this user blocks `peer` (the inbox's blocklist, which the server writes). */
  #blocks(peer: string): boolean {
    return this.#docs.get(inboxPath(this.me))?.synced.doc.getMap<unknown>('blocklist').has(peer) === true;
  }

  #markRead(peer: string, seq: number): void {
    const prefs = this.#docs.get(prefsPath(this.me))?.synced;
    if (prefs !== undefined) markRead(prefs.doc, peer, seq);
  }

  #refreshReceipts(): void {
    for (const entry of this.#docs.values()) this.#writeReceipts(entry.synced);
  }

  #onSynced(sd: SyncedDoc): void {
    const kind = parseDocPath(sd.path)?.kind;
    if (kind === 'conversation') {
      void this.#reconcileOutbox(sd).catch(this.#ctx.error);
      this.#writeReceipts(sd);
    } else if (kind === 'prefs') {
      this.#refreshReceipts();
    } else if (kind === 'inbox') {
      this.#background.schedule();
    }
  }

  // ---- outbox ----------------------------------------------------------------

  /** At start: open every segment with writes waiting, and re-apply what its copy lacks. */
  async #resumeOutbox(): Promise<void> {
    for (const path of await pendingPaths()) {
      const entry = this.#acquire(path, 'outbox');
      await entry.synced.ready;
      // Online, the copy first syncs (onSynced reconciles): the server may hold what this copy lost.
      if (!navigator.onLine) await this.#reconcileOutbox(entry.synced);
    }
  }

  async #reconcileOutbox(sd: SyncedDoc): Promise<void> {
    // After a slow-down the writes wait; the timer reconciles when the wait is over.
    if (this.#slow.waitOf(sd.path) > 0) return;
    await reapply(sd, this.me);
    if (!(await holdsOpen(sd.path))) this.#release(sd.path, 'outbox');
  }

  async #control(frame: Exclude<ControlFrame, { type: 'limits' }>, sd: SyncedDoc): Promise<void> {
    // The copy that sent what this frame answers, read before anything awaits (a reset replaces it).
    const copy = sd.doc;
    switch (frame.type) {
      case 'ack': {
        // Actions are judged against the copy that sent the update: read it now, before anything awaits.
        const acked = acknowledge(sd, frame);
        this.#slow.clear(sd.path);
        await acked;
        if (!(await holdsOpen(sd.path))) this.#release(sd.path, 'outbox');
        return;
      }
      case 'reject': {
        await reject(sd.path, frame, this.#ctx.error);
        // Not a failure: the writes stay pending, shown as "slow down", and go again after the wait.
        if (frame.code === 'slow-down') this.#waitThenResend(sd.path, frame.retryAfterMs);
        // Nothing of the update was applied: this copy is ahead of the server under
        // its client id. Start over from the server's copy; onSynced re-applies the rest.
        // Once per copy, however many of its pieces were refused.
        await sd.reset(copy);
        return;
      }
      case 'refused': {
        if (frame.code === 'token-expired' && !this.#tokenRefreshing) {
          this.#tokenRefreshing = true;
          try {
            await this.#ctx.tokenExpired();
          } finally {
            this.#tokenRefreshing = false;
          }
          this.connectAll();
          return;
        }
        if (frame.code === 'too-many-sockets' || frame.code === 'too-many-docs') {
          // For now only: other tabs and devices will close theirs. Said once per streak of refusals.
          if (sd.retryLater()) this.#ctx.refused(sd.path, frame.code);
          return;
        }
        if (RESYNC_REFUSALS.includes(frame.code)) {
          // The server dropped its copy of the document (a write it could not store): the socket closes with
          // 4503 and y-websocket reconnects, backing off; this copy syncs again and re-sends what the server
          // lacks. Messages refused meanwhile show as not sent, with the reason, and Retry (see `reject`).
          return;
        }
        if (frame.code === 'rate-limited') {
          // Too many connections in a short time: this one tries again when the server says, not never.
          sd.disconnect();
          setTimeout(() => sd.connect(), (frame.retryAfter ?? 5) * 1000);
          return;
        }
        sd.refused = true;
        // Written offline to an id nobody holds: the messages can never go, so they show as failed (the user may delete them).
        if (frame.code === 'user-not-found') await failMessages(sd.path, frame.code);
        this.#ctx.refused(sd.path, frame.code);
        return;
      }
    }
  }

  // ---- background sync of changed conversations -----------------------------

  /** Busy while the inbox catches up or segments wait in the background queue. */
  #reportSyncing(): void {
    this.#ctx.syncing(this.#inboxCatchingUp || this.#background.busy);
  }

  async #syncInBackground(path: string): Promise<void> {
    const entry = this.#acquire(path, 'background');
    try {
      await entry.synced.ready;
      await Promise.race([entry.synced.whenSynced(), delay(BACKGROUND_TIMEOUT_MS)]);
      await entry.writes;
      await delay(BACKGROUND_LINGER_MS);
      await entry.writes;
    } finally {
      this.#release(path, 'background');
    }
  }
}

/** Of `ids` (stamped in `seqs`), those whose synced row the messages table holds: read by the `[conv+seq]` range they span. */
async function storedIds(conv: string, ids: Set<string>, seqs: Y.Map<unknown>): Promise<Set<string>> {
  let low = Infinity;
  let high = -Infinity;
  for (const id of ids) {
    const seq = seqs.get(id);
    if (typeof seq !== 'number') continue;
    if (seq < low) low = seq;
    if (seq > high) high = seq;
  }
  if (low > high) return new Set();
  const keys = await db.messages
    .where('[conv+seq]')
    .between([conv, low], [conv, high], true, true)
    .filter((m) => m.pushed !== true)
    .primaryKeys();
  return new Set(keys);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
