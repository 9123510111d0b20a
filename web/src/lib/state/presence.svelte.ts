/**
 * Ephemeral: which peers are typing to me, which have our conversation open,
 * each peer's online state and last-seen time as the server lets this user
 * see them, and this user's own privacy settings (from the sync sockets;
 * never stored in the conversation's documents).
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Privacy } from '@parley/protocol';

export interface PeerPresence {
  /** A device of theirs holds the app open. */
  online: boolean;
  /** When their last device closed the app (ms), when they show it. */
  lastSeen?: number | undefined;
  /** Read receipts flow between us (both have them on). */
  readReceipts: boolean;
}

class Presence {
  readonly typing = new SvelteSet<string>();
  /** Peers with our conversation open on a device. */
  readonly online = new SvelteSet<string>();
  readonly peers = new SvelteMap<string, PeerPresence>();
  /** This user's settings; null until the server or the API said them. */
  privacy = $state<Privacy | null>(null);

  set(peer: string, typing: boolean): void {
    if (typing) this.typing.add(peer);
    else this.typing.delete(peer);
  }

  setOnline(peer: string, online: boolean): void {
    if (online) this.online.add(peer);
    else this.online.delete(peer);
  }

  setPeer(peer: string, state: PeerPresence): void {
    this.peers.set(peer, state);
  }

  /** Whether `peer` is online (a device of theirs holds the app open), as the server lets this user see it. */
  isOnline(peer: string): boolean {
    return this.peers.get(peer)?.online === true;
  }

  /** Whether read ticks show in the conversation with `peer`: both have read receipts on (off either way hides them both ways). */
  readsShown(peer: string): boolean {
    return (this.privacy?.readReceipts ?? true) && (this.peers.get(peer)?.readReceipts ?? true);
  }
}

export const presence = new Presence();
