/**
 * What the server says of people, on the sync sockets (protocol/src/wire.ts):
 * `peer` on a conversation's socket (the other member online, last seen, and
 * whether read receipts flow between us), `privacy` on the inbox's (this
 * user's own settings, changed on any device). Ephemeral: kept in memory for
 * the hub's receipts and handed to the UI; the server says it again at every
 * connection.
 */
import type { ControlFrame, Privacy } from '@parley/protocol';

export type PeerFrame = Extract<ControlFrame, { type: 'peer' }>;
export type PrivacyFrame = Extract<ControlFrame, { type: 'privacy' }>;

export interface PeersContext {
  /** The UI hears each peer's state (state/presence.svelte.ts). */
  peer?: ((state: PeerFrame) => void) | undefined;
  /** The UI hears this user's own settings. */
  privacy?: ((privacy: Privacy) => void) | undefined;
  /** Read receipts may flow again with someone: write what this device has read. */
  receiptsResumed: () => void;
}

export class Peers {
  readonly #ctx: PeersContext;
  readonly #peers = new Map<string, PeerFrame>();
  #own: Privacy | null = null;

  constructor(ctx: PeersContext) {
    this.#ctx = ctx;
  }

  heard(frame: PeerFrame | PrivacyFrame): void {
    if (frame.type === 'privacy') {
      const { type: _type, ...privacy } = frame;
      this.#own = privacy;
      this.#ctx.privacy?.(privacy);
      return;
    }
    const before = this.readReceipts(frame.user);
    this.#peers.set(frame.user, frame);
    this.#ctx.peer?.(frame);
    if (!before && this.readReceipts(frame.user)) this.#ctx.receiptsResumed();
  }

  /**
   * Whether this device may write a read receipt in the conversation with
   * `peer`: the server said read receipts flow between us (both have them
   * on), and this user's own setting, which may have changed since, allows
   * it. Unknown (no frame yet): by the own setting (the server sends its
   * `peer` frame at open, before it answers the client's sync step 1, so a
   * receipt, written only once synced, always knows).
   */
  readReceipts(peer: string): boolean {
    return (this.#own?.readReceipts ?? true) && (this.#peers.get(peer)?.readReceipts ?? true);
  }
}
