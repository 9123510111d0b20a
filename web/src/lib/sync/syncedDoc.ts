/**
 * One synced document: a Y.Doc loaded from Dexie before its y-websocket
 * provider connects, with Parley's control frames (message type 20) plugged
 * into the provider. `reset()` replaces the document after a refusal: the
 * server applied nothing of the refused update, so this copy has moved ahead
 * of the server under its client id; a fresh Y.Doc (new random client id)
 * syncs from the server again and the caller re-applies the pending writes.
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { MESSAGE_CONTROL, parseControlFrame, type ControlFrame } from '@parley/protocol';
import { clearDoc, loadDoc, persistDoc } from './persistence.ts';
import { sendInPieces } from './pieces.ts';
import { retryDelay } from './retry.ts';

export interface SyncedDocHooks {
  /** Observers of a (new) document and its provider; returns their detach function. */
  attach: (doc: Y.Doc, provider: WebsocketProvider, synced: SyncedDoc) => () => void;
  /** A control frame about this document's writes or socket (the `limits` frame stays here: pieces.ts). */
  control: (frame: Exclude<ControlFrame, { type: 'limits' }>, synced: SyncedDoc) => void;
  /** The provider synced with the server (each time it connects). */
  synced: (synced: SyncedDoc) => void;
  error: (e: unknown) => void;
}

export interface SyncedDocOptions {
  path: string;
  /** `ws(s)://host/sync` */
  wsBase: string;
  token: () => string;
  shouldConnect: () => boolean;
  hooks: SyncedDocHooks;
}

export class SyncedDoc {
  readonly path: string;
  doc: Y.Doc;
  provider: WebsocketProvider | null = null;
  /** Set when the server refused the connection for good (e.g. not a member). */
  refused = false;
  #detach: (() => Promise<unknown>) | null = null;
  #compact: (() => Promise<void>) | null = null;
  #waiters: (() => void)[] = [];
  #options: SyncedDocOptions;
  #destroyed = false;
  #ready: Promise<void>;
  /** Refusals for now in a row (too many sockets or documents), and the retry they scheduled. */
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The copy a reset is replacing (see reset). */
  #resetting: Y.Doc | null = null;

  constructor(options: SyncedDocOptions) {
    this.#options = options;
    this.path = options.path;
    this.doc = new Y.Doc();
    this.#ready = this.#open();
  }

  /** Resolves once the document is loaded from the store and its provider exists (after any reset). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get synced(): boolean {
    return this.provider?.synced ?? false;
  }

  async #open(): Promise<void> {
    const doc = this.doc;
    await loadDoc(this.path, doc);
    if (this.#destroyed || doc !== this.doc) return;
    const store = persistDoc(this.path, doc, this.#options.hooks.error);
    const provider = new WebsocketProvider(this.#options.wsBase, this.path, doc, {
      params: { token: this.#options.token() },
      connect: false,
      // Tabs talk to the server, not to each other: a refused write must not leak into another tab's copy.
      disableBc: true,
    });
    // Updates go in pieces within the server's limits, which it announces first on every socket.
    const pieces = sendInPieces(provider);
    provider.messageHandlers[MESSAGE_CONTROL] = (_encoder, decoder) => {
      const frame = parseControlFrame(decoding.readVarString(decoder));
      if (frame?.type === 'limits') pieces.heard(frame);
      else if (frame !== null) this.#options.hooks.control(frame, this);
    };
    provider.on('sync', (isSynced: boolean) => {
      if (!isSynced) return;
      this.#retries = 0;
      for (const resolve of this.#waiters.splice(0)) resolve();
      this.#options.hooks.synced(this);
    });
    this.provider = provider;
    const detachObservers = this.#options.hooks.attach(doc, provider, this);
    this.#compact = () => store.compact();
    this.#detach = () => {
      this.#compact = null;
      store.detach();
      detachObservers();
      return store.flushed();
    };
    this.connect();
  }

  connect(): void {
    const provider = this.provider;
    if (provider === null || this.refused || !this.#options.shouldConnect()) return;
    provider.params = { token: this.#options.token() };
    provider.connect();
  }

  /**
   * The server refused this socket for now (the account holds too many open,
   * close code 4429, on which y-websocket stops): connects again after a
   * wait that grows with each refusal in a row (lib/sync/retry.ts). True for
   * the first refusal of a streak, which is worth telling the user.
   */
  retryLater(): boolean {
    clearTimeout(this.#retryTimer);
    const first = this.#retries === 0;
    this.#retryTimer = setTimeout(() => this.connect(), retryDelay(this.#retries++));
    return first;
  }

  disconnect(): void {
    this.provider?.disconnect();
  }

  /** Stores this copy as one snapshot (after the writes in flight): what it deleted leaves the store. */
  compact(): Promise<void> {
    return this.#compact?.() ?? Promise.resolve();
  }

  /** Resolves when the provider has synced with the server (or at once if it has). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #teardown(): Promise<unknown> {
    clearTimeout(this.#retryTimer);
    const flushed = this.#detach?.() ?? Promise.resolve();
    this.#detach = null;
    this.provider?.destroy();
    this.provider = null;
    this.doc.destroy();
    return flushed;
  }

  /**
   * Drops `copy` (memory and store) and syncs a fresh one from the server.
   * Once per copy: an update sent in pieces may be refused piece after piece
   * (a `slow-down`, then `reset-required` for each piece that followed it),
   * and every refusal of the same copy asks for the same reset.
   */
  reset(copy: Y.Doc = this.doc): Promise<void> {
    if (copy !== this.doc || copy === this.#resetting) return this.#ready;
    this.#resetting = copy;
    const previous = this.#ready;
    this.#ready = (async () => {
      await previous.catch(() => undefined);
      // Writes of the old copy still in flight must land before the store is cleared.
      await this.#teardown();
      await clearDoc(this.path);
      if (this.#destroyed) return;
      this.doc = new Y.Doc();
      await this.#open();
    })();
    return this.#ready;
  }

  destroy(): void {
    this.#destroyed = true;
    void this.#teardown();
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
