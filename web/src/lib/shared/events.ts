/**
 * The client's events (the hosted SDKs' OnNewMessage and OnRefresh): a small
 * typed emitter that the sync hub feeds and that the app's own UI listens to
 * (the sync indicator, the title and app badge), as would code embedding
 * Parley (docs/client-api.md).
 *
 *   message        a message arrived from the peer or from another of my devices
 *                  (one per inbox change of a conversation: its newest message)
 *   conversation   a conversation's row changed: last message, unread, or one
 *                  of my prefs for it (pin, mute, archive, draft, read marker)
 *   sync           catching up with the server: started, finished, or failed
 *                  (the server is out of reach)
 *   connection     whether the server answers (navigator.onLine alone is not to be trusted)
 */

export interface MessageEvent {
  peer: string;
  id: string;
  from: string;
  /** A one-line preview (text, or "Photo", "Voice message", …). */
  preview: string;
  /** The server's sequence of the message in its conversation. */
  seq: number;
  ts: number;
}

export interface ConversationEvent {
  peer: string;
}

export type SyncState = 'started' | 'finished' | 'failed';

export interface SyncEvent {
  state: SyncState;
  /** With `failed`: a code from the error funnel (e.g. `network`). */
  error?: string;
}

export interface ConnectionEvent {
  reachable: boolean;
}

export interface ClientEvents {
  message: MessageEvent;
  conversation: ConversationEvent;
  sync: SyncEvent;
  connection: ConnectionEvent;
}

export type EventName = keyof ClientEvents;
export type Listener<K extends EventName> = (event: ClientEvents[K]) => void;

export class Emitter<E extends object = ClientEvents> {
  readonly #listeners = new Map<keyof E, Set<(event: never) => void>>();

  /** Listens to an event; returns the function that stops listening. */
  on<K extends keyof E>(name: K, listener: (event: E[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof E>(name: K, listener: (event: E[K]) => void): void {
    this.#listeners.get(name)?.delete(listener);
  }

  /** Calls each listener; one that throws does not stop the others (its error is rethrown on its own). */
  emit<K extends keyof E>(name: K, event: E[K]): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) {
      try {
        (listener as (event: E[K]) => void)(event);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

/** The app's one emitter. */
export const clientEvents = new Emitter<ClientEvents>();

let syncState: SyncState | null = null;
let reachableState: boolean | null = null;

/** The hub's "catching up" and "server out of reach" signals, as `sync` and `connection` events (each change once). */
export const syncFeed = {
  /** The last `sync` state, or null before the first sync of this session. */
  get state(): SyncState | null {
    return syncState;
  },
  busy(busy: boolean): void {
    const state: SyncState = busy ? 'started' : 'finished';
    // Nothing was started: an idle check after a failure is no finish.
    if (state === syncState || (state === 'finished' && syncState !== 'started')) return;
    syncState = state;
    clientEvents.emit('sync', { state });
  },
  reachable(reachable: boolean): void {
    if (reachable === reachableState) return;
    reachableState = reachable;
    clientEvents.emit('connection', { reachable });
    if (!reachable && syncState === 'started') {
      syncState = 'failed';
      clientEvents.emit('sync', { state: 'failed', error: 'network' });
    }
  },
  /** Signed out: the next session starts from nothing. */
  reset(): void {
    syncState = null;
    reachableState = null;
  },
};

/**
 * The `message` events of one inbox change: conversations whose last message
 * moved to one this device did not write (its own writes set the local row's
 * `lastId` first). A conversation the device did not know yet counts only
 * once the inbox has synced (`live`): on a device's first sync the whole list
 * arrives, and that is history, not news.
 */
export function newMessages(
  rows: readonly { peer: string; lastSeq: number; lastId?: string | undefined; lastFrom?: string | undefined; preview: string; lastTs: number }[],
  held: readonly ({ lastSeq: number; lastId?: string | undefined } | undefined)[],
  live: boolean,
): MessageEvent[] {
  return rows.flatMap((row, i) => {
    const before = held[i];
    if (row.lastId === undefined || row.lastFrom === undefined || row.lastSeq === 0) return [];
    if (before === undefined ? !live : row.lastSeq <= before.lastSeq || row.lastId === before.lastId) return [];
    return [{ peer: row.peer, id: row.lastId, from: row.lastFrom, preview: row.preview, seq: row.lastSeq, ts: row.lastTs }];
  });
}
