/**
 * What the sync core keeps in memory while a conversation is loaded, so that
 * accepting never waits for storage: the conversation's last sequence and
 * its members' profiles (and, through Relations.keep, their relations). Every
 * entry follows what is loaded, not everyone ever named.
 */
import { conversationId, DEFAULT_PRIVACY, type Privacy, type ProfileEntry } from '@parley/protocol';
import { profileOf } from '../social/profiles.ts';
import type { Storage } from '../storage/storage.ts';
import type { Relations } from '../social/relations.ts';

export class LoadedConversations {
  /**
   * The last sequence per conversation (`a/b`); memory is authoritative while
   * a document of the conversation is loaded (one writer), and the entry goes
   * when the last one unloads (see forget).
   */
  readonly lastSeq = new Map<string, number>();
  /** Profiles of users with a loaded conversation, for their peers' inboxes; an entry goes with the user's last loaded conversation. */
  readonly profiles = new Map<string, ProfileEntry>();
  /** Privacy settings and last-seen times of the same users, read with their profile: presence and receipts are judged from memory. */
  readonly privacy = new Map<string, { privacy: Privacy; lastSeen: number | null }>();
  /** Members (of loaded conversations) whose account is deleted: a message to them is refused (`account-deleted`). */
  private readonly deleted = new Set<string>();
  /** Per conversation (`a/b`), its documents loaded or loading: `lastSeq` keeps an entry while this is above zero. */
  private readonly loadedConversations = new Map<string, number>();
  /** Per user, the loaded (or loading) conversation documents they are a member of: their profile and relations stay in memory while this is above zero. */
  private readonly loadedMembers = new Map<string, number>();

  constructor(
    private readonly storage: Storage,
    private readonly relations: Relations,
  ) {}

  /**
   * Whether `user` has an account. A conversation with an id nobody holds is
   * refused (user-not-found), so nothing waits in a future account's inbox.
   * The profiles of loaded conversations answer first (a deleted account
   * stays as a tombstone, so a known user stays known); otherwise one storage read, whose
   * answer is not kept: naming many users must not fill memory.
   */
  async exists(user: string): Promise<boolean> {
    if (this.profiles.has(user)) return true;
    return (await this.storage.getUser(user)) !== undefined;
  }

  /** Reads a member's profile into `profiles` for their peer's inbox, once per stretch of their conversations being loaded. */
  async cacheProfile(user: string): Promise<void> {
    if (this.profiles.has(user)) return;
    const record = await this.storage.getUser(user);
    // A profile change meanwhile has set the newer one already.
    if (record !== undefined && !this.profiles.has(user) && this.loadedMembers.has(user)) {
      this.profiles.set(user, profileOf(record));
      this.privacy.set(user, { privacy: record.privacy ?? DEFAULT_PRIVACY, lastSeen: record.lastSeen ?? null });
      if (record.deleted != null) this.deleted.add(user);
    }
  }

  /** Whether `user`, a member of a loaded conversation, deleted their account (read with their profile, or told by `accountDeleted`). */
  isDeleted(user: string): boolean {
    return this.deleted.has(user);
  }

  /** `user` deleted their account (on this process): from now on messages to them are refused. */
  accountDeleted(user: string): void {
    if (this.loadedMembers.has(user)) this.deleted.add(user);
  }

  /** A user's privacy settings as the accept path and presence judge them (the defaults for a user not loaded). */
  privacyOf(user: string): Privacy {
    return this.privacy.get(user)?.privacy ?? DEFAULT_PRIVACY;
  }

  /** A user's privacy settings: from memory while a conversation of theirs is loaded, otherwise read (not kept). */
  async privacyOfUser(user: string): Promise<Privacy> {
    const cached = this.privacy.get(user);
    if (cached !== undefined) return cached.privacy;
    return (await this.storage.getUser(user))?.privacy ?? DEFAULT_PRIVACY;
  }

  /** A user's privacy settings or last-seen time changed: the cached copy follows, if they have a loaded conversation. */
  privacyChanged(user: string, change: { privacy?: Privacy; lastSeen?: number }): void {
    const cached = this.privacy.get(user);
    if (cached === undefined) return;
    this.privacy.set(user, { privacy: change.privacy ?? cached.privacy, lastSeen: change.lastSeen ?? cached.lastSeen });
  }

  /** A user's profile changed: the cached copy follows, if they have a loaded conversation. */
  profileChanged(profile: ProfileEntry): void {
    if (this.loadedMembers.has(profile.id)) this.profiles.set(profile.id, profile);
  }

  /**
   * Reads the conversation's last sequence from storage, unless memory holds
   * it (a leader's memory is ahead of storage: it stamps before the commit).
   * `led`: this process has just taken the lead of one of the conversation's
   * documents (a cluster), and what memory holds may be a follower's, older
   * than the last leader's commits: storage is read, and the higher counts.
   * Nothing is kept when the conversation was forgotten meanwhile (a document
   * reset while it loaded): a value kept then would outlive it, and a later
   * load would stamp from it.
   */
  async loadSeq(conversation: string, led = false): Promise<void> {
    if (this.lastSeq.has(conversation) && !led) return;
    const seq = await this.storage.lastSeq(conversation);
    if (!this.loadedConversations.has(conversation)) return;
    this.lastSeq.set(conversation, Math.max(this.lastSeq.get(conversation) ?? 0, seq));
  }

  /** A conversation document is loading: its sequence, and its members' profiles and relations, stay in memory until it unloads. */
  keep(path: { a: string; b: string }): void {
    const conversation = conversationId(path.a, path.b);
    this.loadedConversations.set(conversation, (this.loadedConversations.get(conversation) ?? 0) + 1);
    for (const member of new Set([path.a, path.b])) {
      const n = this.loadedMembers.get(member) ?? 0;
      this.loadedMembers.set(member, n + 1);
      if (n === 0) this.relations.keep(member);
    }
  }

  /**
   * A conversation document unloaded (or failed to load). When no document
   * of the conversation is left, its last sequence leaves memory: a document
   * unloads only once nothing of it is pending, so storage holds the
   * committed value, which the next load reads. When a member has no loaded
   * conversation left, their profile and relations leave memory too.
   */
  forget(path: { a: string; b: string }): void {
    const conversation = conversationId(path.a, path.b);
    if (countDown(this.loadedConversations, conversation) === 0) this.lastSeq.delete(conversation);
    for (const member of new Set([path.a, path.b])) {
      if (countDown(this.loadedMembers, member) > 0) continue;
      this.profiles.delete(member);
      this.privacy.delete(member);
      this.deleted.delete(member);
      this.relations.forget(member);
    }
  }
}

/** Counts `key` down by one (forgetting it at zero); returns what is left. */
function countDown(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
  return Math.max(n, 0);
}
