/**
 * Who is typing to me: heard in an open conversation's awareness, or relayed
 * by the server into my inbox's (sync-server/src/sync/typing.ts). A peer types
 * while either source says so.
 */
import type { WebsocketProvider } from 'y-websocket';
import type { SyncedDoc } from './syncedDoc.ts';

export type TypingSource = 'conversation' | 'inbox';

export class Typing {
  readonly #sources = { conversation: new Set<string>(), inbox: new Set<string>() };
  readonly #report: (peer: string, typing: boolean) => void;

  constructor(report: (peer: string, typing: boolean) => void) {
    this.#report = report;
  }

  set(source: TypingSource, peer: string, typing: boolean): void {
    if (typing) this.#sources[source].add(peer);
    else this.#sources[source].delete(peer);
    this.#report(peer, this.#sources.conversation.has(peer) || this.#sources.inbox.has(peer));
  }

  /** The server's state in my inbox's awareness: the peers typing to me now. */
  relayed(awareness: WebsocketProvider['awareness'], own: number): void {
    const typing = new Set<string>();
    for (const [client, state] of awareness.getStates()) {
      const s = state as { user?: unknown; typing?: unknown };
      // Devices' states carry their user (the server sets it); the server's own has none.
      if (client === own || s.user !== undefined || !Array.isArray(s.typing)) continue;
      for (const peer of s.typing) if (typeof peer === 'string') typing.add(peer);
    }
    for (const peer of [...this.#sources.inbox]) if (!typing.has(peer)) this.set('inbox', peer, false);
    for (const peer of typing) if (!this.#sources.inbox.has(peer)) this.set('inbox', peer, true);
  }

  /** The inbox's socket closed: nothing it relayed holds any more. */
  clearRelayed(): void {
    for (const peer of [...this.#sources.inbox]) this.set('inbox', peer, false);
  }
}

/** Sets this device's `typing` (the peer typed to) or `here` (the conversation shown) in a document's awareness, when it changes. */
export function setLocalField(synced: SyncedDoc | undefined, field: 'typing' | 'here', value: string | null): void {
  const awareness = synced?.provider?.awareness;
  if (awareness === undefined) return;
  if (awareness.getLocalState()?.[field] !== value) awareness.setLocalStateField(field, value);
}
