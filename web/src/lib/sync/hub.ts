/**
 * The hub keeps the device's documents in step with the server and the
 * materialised tables in step with the documents. Open documents, and why
 * (docs.ts holds them):
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
 * What each document makes of the read model: conversationProjection.ts and
 * inboxProjection.ts (through projector.ts, the one writer of messages and
 * conversations), prefs.ts; receipts: receipts.ts; who types: typing.ts;
 * control frames and the outbox's documents: control.ts (outbox.ts).
 */
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { conversationPath, inboxPath, parseDocPath, prefsPath, segmentOf, type ErrorCode, type Privacy } from '@parley/protocol';
import { db } from '../db.ts';
import { BackgroundSync } from './background.ts';
import { attachConversation } from './conversationProjection.ts';
import { Control } from './control.ts';
import { Documents } from './docs.ts';
import { attachInbox } from './inboxProjection.ts';
import { Peers, type PeerFrame } from './peers.ts';
import { observePrefs, setMuted } from './prefs.ts';
import { Receipts } from './receipts.ts';
import type { SyncedDoc } from './syncedDoc.ts';
import { Typing, setLocalField } from './typing.ts';

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
  /** A peer's presence as the server lets this user see it, and whether read receipts flow (sync/peers.ts). */
  peer?: (state: PeerFrame) => void;
  /** This user's privacy settings, as the server holds them (changed on any device). */
  privacy?: (privacy: Privacy) => void;
  syncing: (busy: boolean) => void;
  /** Whether the server answers (from the inbox socket): navigator.onLine alone is not to be trusted. */
  reachable: (reachable: boolean) => void;
  error: (e: unknown) => void;
}

/** How long a background segment stays open after it synced, for its receipt to be acknowledged. */
const BACKGROUND_LINGER_MS = 1500;
const BACKGROUND_TIMEOUT_MS = 20_000;

const isVisible = (): boolean => typeof document === 'undefined' || document.visibilityState === 'visible';

export class SyncHub {
  readonly #ctx: HubContext;
  readonly #docs: Documents;
  readonly #control: Control;
  readonly #receipts: Receipts;
  readonly #peers: Peers;
  readonly #typing: Typing;
  readonly #background: BackgroundSync;
  #openPeer: string | null = null;
  /** The inbox is connected and catching up (the conversation list's sync, as the hosted SDKs' onSyncServerStart). */
  #inboxCatchingUp = false;
  #stopped = false;
  readonly #listeners: [EventTarget, string, () => void][] = [];

  constructor(ctx: HubContext) {
    this.#ctx = ctx;
    this.#docs = new Documents({
      wsBase: ctx.wsBase,
      token: () => ctx.token(),
      shouldConnect: () => navigator.onLine && !this.#stopped,
      hooks: {
        attach: (doc, provider, sd) => this.#attach(doc, provider, sd),
        control: (frame, sd) => (frame.type === 'peer' || frame.type === 'privacy' ? this.#peers.heard(frame) : void this.#control.handle(frame, sd).catch(ctx.error)),
        synced: (sd) => this.#onSynced(sd),
        error: ctx.error,
      },
    });
    this.#control = new Control({ me: ctx.me, docs: this.#docs, tokenExpired: ctx.tokenExpired, reconnect: () => this.connectAll(), refused: ctx.refused, error: ctx.error });
    this.#peers = new Peers({ peer: ctx.peer, privacy: ctx.privacy, receiptsResumed: () => this.#receipts.refresh() });
    this.#receipts = new Receipts({ me: ctx.me, docs: this.#docs, openPeer: () => this.#openPeer, visible: isVisible, readReceipts: (peer) => this.#peers.readReceipts(peer) });
    this.#typing = new Typing(ctx.typing);
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
      this.#receipts.refresh();
    };
    this.#listen(window, 'online', online);
    this.#listen(window, 'offline', offline);
    this.#listen(document, 'visibilitychange', visible);
    this.#docs.acquire(inboxPath(this.me), 'inbox');
    this.#docs.acquire(prefsPath(this.me), 'prefs');
    void this.#control.resume().catch(this.#ctx.error);
  }

  stop(): void {
    this.#stopped = true;
    this.#background.stop();
    this.#control.stop();
    for (const [target, type, fn] of this.#listeners.splice(0)) target.removeEventListener(type, fn);
    this.#docs.destroy();
  }

  #listen(target: EventTarget, type: string, fn: () => void): void {
    target.addEventListener(type, fn);
    this.#listeners.push([target, type, fn]);
  }

  connectAll(): void {
    if (!navigator.onLine) return;
    this.#docs.connectAll();
    this.#background.retryAll();
  }

  disconnectAll(): void {
    this.#docs.disconnectAll();
  }

  // ---- the outbox's documents (control.ts) --------------------------------------

  /** The loaded document of a conversation segment, kept open while it has outbox writes. */
  async conversationDoc(peer: string, segment: string): Promise<SyncedDoc> {
    const entry = this.#docs.acquire(conversationPath(this.me, peer, segment), 'outbox');
    await entry.synced.ready;
    return entry.synced;
  }

  /** Writes the outbox entries of a segment that its document lacks: a media message whose uploads just finished goes out the way every write does. */
  flushOutbox(path: string): Promise<void> {
    return this.#control.flush(path);
  }

  /** Whether writes to `path` wait after a `slow-down` (the outbox keeps them; they go when the wait ends). */
  isWaiting(path: string): boolean {
    return this.#control.isWaiting(path);
  }

  /** The person asked to send now: the wait after a `slow-down` ends, and the writes go. */
  sendNow(path: string): Promise<void> {
    return this.#control.sendNow(path);
  }

  // ---- the conversation on screen ---------------------------------------------

  /** The conversation on screen: its current segment and the newest one holding messages. */
  async openConversation(peer: string | null): Promise<void> {
    if (peer === this.#openPeer) return;
    const previous = this.#openPeer;
    this.#openPeer = peer;
    if (previous !== null) {
      this.setTyping(previous, false);
      this.#setHere(previous, false);
      for (const [path, entry] of this.#docs.all()) if (entry.holds.has('open')) this.#docs.release(path, 'open');
      this.#typing.set('conversation', previous, false);
      this.#ctx.online?.(previous, false);
    }
    if (peer === null) return;
    const segments = new Set([segmentOf(Date.now())]);
    const row = await db.conversations.get(peer);
    if (row !== undefined) segments.add(row.segment);
    if (this.#openPeer !== peer) return;
    for (const segment of segments) this.#docs.acquire(conversationPath(this.me, peer, segment), 'open');
    this.#receipts.refresh();
    // Presence: this device shows the conversation (the peer's header says "online").
    await this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())))?.synced.ready.catch(() => undefined);
    if (this.#openPeer === peer) this.#setHere(peer, true);
  }

  /** Awareness `here` in the open conversation's current segment: which conversation this device shows. */
  #setHere(peer: string, here: boolean): void {
    setLocalField(this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())))?.synced, 'here', here ? peer : null);
  }

  /** The newest segment holding messages, known from the server's list rather than the inbox: held open too. */
  holdOpen(peer: string, segment: string): void {
    if (peer === this.#openPeer) this.#docs.acquire(conversationPath(this.me, peer, segment), 'open');
  }

  /**
   * Syncs one segment of history and materialises it, then closes it (unless
   * something else holds it). Resolves false when it could not sync (offline,
   * refused, timed out).
   */
  async syncHistory(peer: string, segment: string, timeoutMs = BACKGROUND_TIMEOUT_MS): Promise<boolean> {
    const path = conversationPath(this.me, peer, segment);
    const entry = this.#docs.acquire(path, 'history');
    try {
      await entry.synced.ready;
      const synced = await Promise.race([entry.synced.whenSynced().then(() => true), delay(timeoutMs).then(() => false)]);
      await entry.writes;
      return synced && !entry.synced.refused;
    } finally {
      this.#docs.release(path, 'history');
    }
  }

  /** Typing state, in the awareness of the open conversation's current segment. */
  setTyping(peer: string, typing: boolean): void {
    setLocalField(this.#docs.get(conversationPath(this.me, peer, segmentOf(Date.now())))?.synced, 'typing', typing ? peer : null);
  }

  // ---- observers -------------------------------------------------------------

  #attach(doc: Y.Doc, provider: WebsocketProvider, sd: SyncedDoc): () => void {
    const path = parseDocPath(sd.path);
    const { me, error } = this.#ctx;
    if (path?.kind === 'conversation') {
      return attachConversation(doc, provider, sd, path, {
        me,
        docs: this.#docs,
        entry: this.#docs.get(sd.path),
        written: (written) => this.#receipts.write(written),
        typing: (peer, typing) => this.#typing.set('conversation', peer, typing),
        online: this.#ctx.online,
        error,
      });
    }
    if (path?.kind === 'inbox') {
      return attachInbox(doc, provider, {
        reachable: this.#ctx.reachable,
        catchingUp: (value) => {
          this.#inboxCatchingUp = value;
          this.#reportSyncing();
        },
        typing: this.#typing,
        refreshReceipts: () => this.#receipts.refresh(),
        compact: () => void this.#docs.get(inboxPath(me))?.synced.compact().catch(error),
        schedule: () => this.#background.schedule(),
        error,
      });
    }
    // A read marker that moved (maybe from another device) may leave a conversation's read receipt behind.
    if (path?.kind === 'prefs') return observePrefs(doc, { onError: error, onRead: () => this.#background.schedule() });
    return () => {};
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

  #onSynced(sd: SyncedDoc): void {
    const kind = parseDocPath(sd.path)?.kind;
    if (kind === 'conversation') {
      void this.#control.reconcile(sd).catch(this.#ctx.error);
      this.#receipts.write(sd);
    } else if (kind === 'prefs') {
      this.#receipts.refresh();
    } else if (kind === 'inbox') {
      this.#background.schedule();
    }
  }

  // ---- background sync of changed conversations -----------------------------

  /** Busy while the inbox catches up or segments wait in the background queue. */
  #reportSyncing(): void {
    this.#ctx.syncing(this.#inboxCatchingUp || this.#background.busy);
  }

  async #syncInBackground(path: string): Promise<void> {
    const entry = this.#docs.acquire(path, 'background');
    try {
      await entry.synced.ready;
      await Promise.race([entry.synced.whenSynced(), delay(BACKGROUND_TIMEOUT_MS)]);
      await entry.writes;
      await delay(BACKGROUND_LINGER_MS);
      await entry.writes;
    } finally {
      this.#docs.release(path, 'background');
    }
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
