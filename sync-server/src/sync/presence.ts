/**
 * Presence across documents: who is online (an open inbox socket), who may
 * see whose presence and receipts (blocks hide them both ways), and "typing…"
 * relayed from conversation documents into the recipient's inbox.
 */
import type { Relations } from '../social/relations.ts';
import type { AwarenessLimits } from './awareness.ts';
import type { LiveDoc } from './live-doc.ts';
import { TypingRelay } from './typing.ts';

export class Presence {
  /** "typing…" from conversation documents into the recipient's inbox (sync/typing.ts), never between users hidden from each other. */
  private readonly typing = new TypingRelay((typer, viewer) => this.hidden(typer, viewer));
  /** The loaded conversation documents, whose presence follows their members' blocks. */
  private readonly conversations = new Set<LiveDoc>();
  /** Open inbox connections per user and device: a device is online while its inbox socket is open. */
  private readonly online = new Map<string, Map<string, number>>();
  /** Hears a device going online or offline here (its first inbox socket opened, its last closed): a cluster tells the others. */
  onOnline: (user: string, device: string, online: boolean) => void = () => undefined;
  /** The devices of a user online on the cluster's other processes (none alone). */
  elsewhere: (user: string) => readonly string[] = () => [];

  constructor(
    private readonly relations: Relations,
    private readonly limits: AwarenessLimits,
  ) {}

  /**
   * Whether `owner`'s presence (typing, `here`) is kept from `viewer`: when
   * either blocked the other. The blocked user must not learn of the block
   * from the blocker's presence, and the blocker does not want the blocked
   * one's typing. Both members' relations are loaded with their conversation.
   */
  hidden(owner: string, viewer: string): boolean {
    return this.relations.peek(owner)?.blocked.has(viewer) === true || this.relations.peek(viewer)?.blocked.has(owner) === true;
  }

  /**
   * Whether `user`'s receipts in the conversation with `peer` are kept out of
   * the document: while `user` blocks `peer`, the blocked user sees no new
   * delivered or read state from them (docs/security.md, "Presence").
   */
  receiptsWithheld(user: string, peer: string): boolean {
    return this.relations.peek(user)?.blocked.has(peer) === true;
  }

  /** Relations of `users` changed: presence in their loaded conversations follows at once. */
  changed(users: readonly string[]): void {
    const touched = new Set(users);
    for (const live of this.conversations) {
      const path = live.parsed;
      if (live.destroyed || path.kind !== 'conversation' || !(touched.has(path.a) || touched.has(path.b))) continue;
      live.presence.refresh(live.connections);
      this.typing.changed(live);
    }
  }

  /** A document is loading: its presence takes the limits and the blocks. */
  prepare(live: LiveDoc): void {
    live.presence.limits = this.limits;
    live.presence.hidden = (owner, viewer) => this.hidden(owner, viewer);
  }

  /** A conversation document is loaded with its inboxes: its typing is relayed from now on. */
  watch(live: LiveDoc): void {
    live.awareness.on('change', () => this.typing.changed(live));
    this.conversations.add(live);
  }

  /** A document unloaded: its typing leaves the inboxes. */
  unloaded(live: LiveDoc): void {
    this.conversations.delete(live);
    if (live.parsed.kind === 'conversation') this.typing.gone(live);
  }

  /** An inbox connection of `user`'s `device` opened. */
  connected(user: string, device: string): void {
    const devices = this.online.get(user) ?? new Map<string, number>();
    const n = (devices.get(device) ?? 0) + 1;
    devices.set(device, n);
    this.online.set(user, devices);
    if (n === 1) this.onOnline(user, device, true);
  }

  /** An inbox connection closed: the device goes offline for push once its last one is gone. */
  disconnected(user: string, device: string): void {
    const devices = this.online.get(user);
    const n = (devices?.get(device) ?? 0) - 1;
    if (n > 0) devices?.set(device, n);
    else if (devices?.delete(device) === true) this.onOnline(user, device, false);
    if (devices?.size === 0) this.online.delete(user);
  }

  /** The devices of `user` with an open inbox socket, here or on the cluster's other processes. */
  devicesOnline(user: string): string[] {
    const here = [...(this.online.get(user)?.keys() ?? [])];
    const there = this.elsewhere(user);
    return there.length === 0 ? here : [...new Set([...here, ...there])];
  }

  /** Every device online here, by user (a process joining the cluster asks for them). */
  onlineHere(): [string, string[]][] {
    return [...this.online].map(([user, devices]) => [user, [...devices.keys()]]);
  }
}
