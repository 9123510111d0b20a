/**
 * Presence across documents: who is online (an open inbox socket), who may
 * see whose presence and receipts (blocks hide them both ways, and each
 * user's privacy settings: protocol/src/privacy.ts), and "typing…" relayed
 * from conversation documents into the recipient's inbox.
 *
 * A user is online while any device of theirs holds an inbox socket, on any
 * process of a cluster. Each conversation socket hears the other member's
 * state in a `peer` control frame, as that viewer may see it: at open, and
 * again whenever it changes (the peer comes or goes, a setting, a relation);
 * each inbox socket hears its own user's settings (`privacy`). The work per
 * change is one frame per socket of the user's loaded conversations.
 */
import { DEFAULT_PRIVACY, presenceVisible, type ControlFrame, type Privacy, readReceiptsFlow } from '@parley/protocol';
import type { Relations } from '../social/relations.ts';
import type { AwarenessLimits } from './awareness.ts';
import type { LiveDoc } from './live-doc.ts';
import { TypingRelay } from './typing.ts';

export class Presence {
  /** "typing…" from conversation documents into the recipient's inbox (sync/typing.ts), never between users hidden from each other. */
  private readonly typing = new TypingRelay((typer, viewer) => this.hidden(typer, viewer));
  /**
   * The loaded conversation documents by member, whose presence follows their
   * members' blocks and settings: a change of one user's visits only theirs.
   */
  private readonly conversations = new Map<string, Set<LiveDoc>>();
  /** Open inbox connections per user and device: a device is online while its inbox socket is open. */
  private readonly online = new Map<string, Map<string, number>>();
  /** Hears a device going online or offline here (its first inbox socket opened, its last closed): a cluster tells the others. */
  onOnline: (user: string, device: string, online: boolean) => void = () => undefined;
  /** The devices of a user online on the cluster's other processes (none alone). */
  elsewhere: (user: string) => readonly string[] = () => [];
  /** Privacy settings and last-seen times of users with a loaded conversation (LoadedConversations.privacy). */
  privacyOf: (user: string) => { privacy: Privacy; lastSeen: number | null } | undefined = () => undefined;
  /** The last device of a user closed the app here, at `ts`: the hub records it (cache and storage). */
  onLastSeen: (user: string, ts: number) => void = () => undefined;
  /** Loaded inbox documents by user: their sockets hear the user's own settings. */
  private readonly inboxes = new Map<string, LiveDoc>();

  constructor(
    private readonly relations: Relations,
    private readonly limits: AwarenessLimits,
  ) {}

  /**
   * Whether `owner`'s presence (typing, `here`) is kept from `viewer`: when
   * either blocked the other, or `owner`'s settings do not show it to them. The blocked user must not learn of the block
   * from the blocker's presence, and the blocker does not want the blocked
   * one's typing. Both members' relations are loaded with their conversation.
   */
  hidden(owner: string, viewer: string): boolean {
    return this.blockedBetween(owner, viewer) || !this.shows(owner, viewer);
  }

  private blockedBetween(owner: string, viewer: string): boolean {
    return this.relations.peek(owner)?.blocked.has(viewer) === true || this.relations.peek(viewer)?.blocked.has(owner) === true;
  }

  /**
   * Whether `owner`'s settings show their presence to `viewer` (everyone, or
   * their contacts): typing and which conversation a device shows say "online
   * now" as plainly as the online state does, so they follow it.
   */
  private shows(owner: string, viewer: string): boolean {
    const { presence } = this.privacyOf(owner)?.privacy ?? DEFAULT_PRIVACY;
    return presence === 'everyone' || (presence === 'contacts' && this.relations.peek(owner)?.friends.has(viewer) === true);
  }

  /**
   * Whether `user`'s receipts in the conversation with `peer` are kept out of
   * the document: while `user` blocks `peer`, the blocked user sees no new
   * delivered or read state from them (docs/security.md, "Presence"); and
   * `read` ones (the update holds one) while either has read receipts off.
   */
  receiptsWithheld(user: string, peer: string, read: boolean): boolean {
    if (this.relations.peek(user)?.blocked.has(peer) === true) return true;
    // A read receipt flows only while both members have read receipts on (protocol/src/privacy.ts).
    return read && !readReceiptsFlow(this.privacyOf(user)?.privacy ?? DEFAULT_PRIVACY, this.privacyOf(peer)?.privacy ?? DEFAULT_PRIVACY);
  }

  /** Relations or privacy settings of `users` changed: presence in their loaded conversations follows at once. */
  changed(users: readonly string[]): void {
    const touched = new Set(users.flatMap((user) => [...(this.conversations.get(user) ?? [])]));
    for (const live of touched) {
      if (live.destroyed) continue;
      live.presence.refresh(live.connections);
      this.typing.changed(live);
      // A friendship can show or hide presence set to `contacts`; a setting changes receipts and presence.
      this.announce(live);
    }
  }

  /**
   * What `viewer` may know of `owner` (a `peer` frame): online and last seen
   * as `owner`'s settings, the viewer's own and a block between them allow;
   * and whether read receipts flow between them.
   */
  peerFrame(viewer: string, owner: string): Extract<ControlFrame, { type: 'peer' }> {
    const seen = this.privacyOf(owner);
    const mine = this.privacyOf(viewer)?.privacy ?? DEFAULT_PRIVACY;
    const theirs = seen?.privacy ?? DEFAULT_PRIVACY;
    const contact = this.relations.peek(owner)?.friends.has(viewer) === true;
    const visible = presenceVisible(theirs, mine, contact, this.blockedBetween(owner, viewer));
    const online = visible && this.devicesOnline(owner).length > 0;
    const lastSeen = visible && !online ? (seen?.lastSeen ?? null) : null;
    return { type: 'peer', user: owner, online, ...(lastSeen === null ? {} : { lastSeen }), readReceipts: readReceiptsFlow(theirs, mine) };
  }

  /** Tells every socket of a loaded conversation what it may know of the other member. */
  announce(live: LiveDoc): void {
    const path = live.parsed;
    if (path.kind !== 'conversation') return;
    for (const connection of live.connections) {
      const peer = connection.user === path.a ? path.b : path.a;
      connection.sendControl(this.peerFrame(connection.user, peer));
    }
  }

  /** `user`'s presence or settings changed: every loaded conversation of theirs hears it, both members (receipts concern both). */
  announceUser(user: string): void {
    for (const live of this.conversations.get(user) ?? []) if (!live.destroyed) this.announce(live);
  }

  /** `user` changed their privacy settings (here or on another process): their inbox sockets and their conversations hear it. */
  privacyChanged(user: string, privacy: Privacy): void {
    for (const connection of this.inboxes.get(user)?.connections ?? []) connection.sendControl({ type: 'privacy', ...privacy });
    this.changed([user]);
  }

  /**
   * Another process of the cluster heard a device of `user` come or go
   * (`change` records it): when that turns the user online or offline as a
   * whole, their conversations here hear it; offline, the last-seen time is
   * now (the process where it happened stores it; `store`: this one does,
   * the other having died).
   */
  elsewhereChanging(user: string, change: () => void, store = false): void {
    const was = this.devicesOnline(user).length > 0;
    change();
    const is = this.devicesOnline(user).length > 0;
    if (was === is) return;
    if (!is) this.lastSeenNow(user, store);
    this.announceUser(user);
  }

  private lastSeenNow(user: string, here: boolean): void {
    const ts = Date.now();
    const cached = this.privacyOf(user);
    if (cached !== undefined) cached.lastSeen = ts;
    if (here) this.onLastSeen(user, ts);
  }

  /** A document is loading: its presence takes the limits and the blocks. */
  prepare(live: LiveDoc): void {
    live.presence.limits = this.limits;
    live.presence.hidden = (owner, viewer) => this.hidden(owner, viewer);
    if (live.parsed.kind === 'inbox') this.inboxes.set(live.parsed.user, live);
  }

  /** A conversation document is loaded with its inboxes: its typing is relayed from now on. */
  watch(live: LiveDoc): void {
    live.awareness.on('change', () => this.typing.changed(live));
    for (const member of this.members(live)) {
      let docs = this.conversations.get(member);
      if (docs === undefined) this.conversations.set(member, (docs = new Set()));
      docs.add(live);
    }
  }

  /** A document unloaded: its typing leaves the inboxes. */
  unloaded(live: LiveDoc): void {
    for (const member of this.members(live)) {
      const docs = this.conversations.get(member);
      docs?.delete(live);
      if (docs?.size === 0) this.conversations.delete(member);
    }
    if (live.parsed.kind === 'inbox' && this.inboxes.get(live.parsed.user) === live) this.inboxes.delete(live.parsed.user);
    if (live.parsed.kind === 'conversation') this.typing.gone(live);
  }

  private members(live: LiveDoc): string[] {
    const path = live.parsed;
    return path.kind === 'conversation' ? [path.a, path.b] : [];
  }

  /** An inbox connection of `user`'s `device` opened. */
  connected(user: string, device: string): void {
    const was = this.devicesOnline(user).length > 0;
    const devices = this.online.get(user) ?? new Map<string, number>();
    const n = (devices.get(device) ?? 0) + 1;
    devices.set(device, n);
    this.online.set(user, devices);
    if (n === 1) this.onOnline(user, device, true);
    if (!was) this.announceUser(user);
  }

  /** An inbox connection closed: the device goes offline for push once its last one is gone. */
  disconnected(user: string, device: string): void {
    const devices = this.online.get(user);
    const n = (devices?.get(device) ?? 0) - 1;
    let gone = false;
    if (n > 0) devices?.set(device, n);
    else if (devices?.delete(device) === true) {
      this.onOnline(user, device, false);
      gone = true;
    }
    if (devices?.size === 0) this.online.delete(user);
    if (gone && this.devicesOnline(user).length === 0) {
      this.lastSeenNow(user, true);
      this.announceUser(user);
    }
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
