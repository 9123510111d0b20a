/**
 * Finding people: the search (ids by prefix, nicknames by the start of a
 * word) and invite links (`/invite/<token>`).
 *
 * Search rules, so that nobody lists the directory:
 * - a query needs LIMITS.peopleQueryMin characters and a page holds at most
 *   LIMITS.peoplePageMax people; searches are rate-limited per user (http/);
 * - a user who turned discoverability off is found only by their exact id
 *   (regardless of case), as a phone number finds anyone in the apps that
 *   work that way: whoever knows the id could message them anyway;
 * - nicknames match at the start of a word, not anywhere: a substring search
 *   would make every three letters a slice of the directory, and people
 *   remember the start of a name;
 * - the caller, users they blocked and users who blocked them are left out.
 *
 * Invite links: a random token (24 bytes, 192 bits) whose SHA-256 alone is
 * stored, as refresh tokens are; it works until it expires or its owner
 * revokes it, for anyone who holds it, any number of times (a QR code on a
 * card). Resolving it needs no sign-in and shows the inviter's profile (what
 * the apps show: "Alice invited you"); accepting it after sign-in opens a
 * chat, or in a friends-only install sends the inviter a friend request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { InviteToken, LIMITS, type ProfileEntry } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { InviteRow, Storage } from '../storage/storage.ts';
import { profileOf } from './profiles.ts';
import type { Relations } from './relations.ts';
import type { SettingsStore } from './settings.ts';

const DAY_MS = 24 * 3600_000;

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface PeopleLimits {
  inviteTtlDays: number;
  maxInvitesPerUser: number;
}

export interface SearchPage {
  people: ProfileEntry[];
  next: string | null;
}

export interface InviteView {
  id: string;
  created: number;
  expires: number;
}

const viewOf = (row: InviteRow): InviteView => ({ id: row.id, created: row.created, expires: row.expires });

export class People {
  /** Invite creation per user, one at a time, so that two at once cannot both take the last place under the cap. */
  private readonly creating = new Map<string, Promise<unknown>>();

  constructor(
    private readonly storage: Storage,
    private readonly relations: Relations,
    private readonly settings: SettingsStore,
    private readonly limits: PeopleLimits,
  ) {}

  async search(caller: string, query: string, cursor: string | null, limit: number = LIMITS.peoplePageMax): Promise<SearchPage> {
    const q = query.trim();
    if ([...q].length < LIMITS.peopleQueryMin) throw new Refusal('query-too-short');
    const size = Math.min(Math.max(1, limit), LIMITS.peoplePageMax);
    const rows = await this.storage.searchUsers(q, cursor, size);
    const mine = await this.relations.load(caller);
    const people: ProfileEntry[] = [];
    for (const user of rows) {
      if (user.id === caller || mine.blocked.has(user.id)) continue;
      if ((await this.relations.load(user.id)).blocked.has(caller)) continue;
      people.push(profileOf(user));
    }
    // A full page may have more behind it; the cursor is the last id looked at, shown or not.
    return { people, next: rows.length === size ? (rows.at(-1)?.id ?? null) : null };
  }

  /** A new invite link of `owner`'s, with its token (shown this once); expired ones of theirs are deleted on the way. */
  createInvite(owner: string): Promise<InviteView & { token: string }> {
    const previous = this.creating.get(owner) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.create(owner));
    this.creating.set(owner, next);
    const forget = (): void => {
      if (this.creating.get(owner) === next) this.creating.delete(owner);
    };
    next.then(forget, forget);
    return next;
  }

  private async create(owner: string): Promise<InviteView & { token: string }> {
    const now = Date.now();
    const all = await this.storage.invitesOf(owner);
    const expired = all.filter((i) => i.expires <= now).map((i) => i.id);
    if (expired.length > 0) await this.storage.deleteInvites(owner, expired);
    if (all.length - expired.length >= this.limits.maxInvitesPerUser) throw new Refusal('too-many-invites');
    const token = randomBytes(24).toString('base64url');
    const row: InviteRow = { id: randomBytes(12).toString('base64url'), owner, tokenHash: hashOf(token), created: now, expires: now + this.limits.inviteTtlDays * DAY_MS };
    await this.storage.putInvite(row);
    return { ...viewOf(row), token };
  }

  /** `owner`'s live invites, oldest first. */
  async invites(owner: string): Promise<InviteView[]> {
    const now = Date.now();
    return (await this.storage.invitesOf(owner)).filter((i) => i.expires > now).map(viewOf);
  }

  async revokeInvite(owner: string, id: string): Promise<void> {
    if ((await this.storage.deleteInvites(owner, [id])) === 0) throw new Refusal('invite-not-found');
  }

  /** Who invited, and until when: `invite-not-found` for a token that was revoked or never was, `invite-expired` after its time. */
  async resolve(token: string): Promise<{ inviter: ProfileEntry; expires: number; owner: string }> {
    if (!InviteToken.safeParse(token).success) throw new Refusal('invite-not-found');
    const row = await this.storage.inviteByHash(hashOf(token));
    if (row === undefined) throw new Refusal('invite-not-found');
    if (row.expires <= Date.now()) throw new Refusal('invite-expired');
    const user = await this.storage.getUser(row.owner);
    if (user === undefined) throw new Refusal('invite-not-found');
    return { inviter: profileOf(user), expires: row.expires, owner: row.owner };
  }

  /**
   * `user` takes up the invite: a chat with the inviter (the app opens it;
   * the first message creates it), or, in a friends-only install, a friend
   * request to the inviter unless they are friends already.
   */
  async accept(user: string, token: string): Promise<{ inviter: ProfileEntry; outcome: 'chat' | 'friend-request' }> {
    const { inviter, owner } = await this.resolve(token);
    if (owner === user) throw new Refusal('invite-own');
    if (this.settings.get().messaging === 'open') return { inviter, outcome: 'chat' };
    const [me, them] = [await this.relations.load(user), await this.relations.load(owner)];
    if (me.friends.has(owner) && them.friends.has(user)) return { inviter, outcome: 'chat' };
    // The inviter asked first: a request of theirs to this user is accepted instead of crossing it.
    if (me.requestsIn.has(owner)) {
      await this.relations.accept(user, owner);
      return { inviter, outcome: 'chat' };
    }
    if (!me.requestsOut.has(owner)) await this.relations.request(user, owner, 'Joined with your invite link');
    return { inviter, outcome: 'friend-request' };
  }
}
