/**
 * Friends, friend requests and blocklists: an in-memory cache per user,
 * backed by the `relations` table. A user's relations are read on demand
 * (when a conversation of theirs loads, or an API call names them), and kept
 * in memory while the hub says a loaded conversation needs them (`keep` …
 * `forget`), so the accept path reads facts synchronously, with no SQL per
 * message, and naming many users fills nothing.
 * Every change is written to storage first, then to the cache, then
 * reflected into the users' inbox documents (`onChange`).
 *
 * Friendship is one-way in data, as in the hosted service: `friends` of A
 * may hold B while B's does not hold A. A request + accept adds both ways.
 */
import { LIMITS } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { RelationChange, RelationKind, Storage } from '../storage/storage.ts';
import type { SettingsStore } from './settings.ts';

export interface Since {
  created: number;
  note: string | null;
}

export interface UserRelations {
  friends: Map<string, Since>;
  blocked: Map<string, Since>;
  /** Requests this user sent, by recipient. */
  requestsOut: Map<string, Since>;
  /** Requests sent to this user, by sender. */
  requestsIn: Map<string, Since>;
}

const empty = (): UserRelations => ({ friends: new Map(), blocked: new Map(), requestsOut: new Map(), requestsIn: new Map() });

export class Relations {
  private readonly cache = new Map<string, UserRelations>();
  /** Users whose relations stay cached (members of a loaded conversation); others are read for each use. */
  private readonly kept = new Set<string>();
  private readonly loading = new Map<string, Promise<UserRelations>>();
  /** Users whose relations changed while their rows were being read: read again. */
  private readonly stale = new Set<string>();
  /** Called with the users whose relations changed, after the change is durable. */
  onChange: (users: string[]) => void = () => undefined;

  constructor(
    private readonly storage: Storage,
    private readonly settings: SettingsStore,
  ) {}

  /** The user's relations: from memory when kept, otherwise read (one read for concurrent callers). */
  async load(user: string): Promise<UserRelations> {
    const cached = this.cache.get(user);
    if (cached !== undefined) return cached;
    let loading = this.loading.get(user);
    if (loading === undefined) {
      loading = this.read(user);
      this.loading.set(user, loading);
      const forget = (): void => void this.loading.delete(user);
      loading.then(forget, forget);
    }
    return loading;
  }

  private async read(user: string): Promise<UserRelations> {
    for (;;) {
      this.stale.delete(user);
      const rows = await this.storage.relationsOf(user);
      if (this.stale.has(user)) continue;
      const rel = empty();
      for (const r of rows) {
        const since = { created: r.created, note: r.note };
        if (r.owner === user && r.kind === 'friend') rel.friends.set(r.other, since);
        else if (r.owner === user && r.kind === 'block') rel.blocked.set(r.other, since);
        else if (r.owner === user && r.kind === 'request') rel.requestsOut.set(r.other, since);
        else if (r.other === user && r.kind === 'request') rel.requestsIn.set(r.owner, since);
      }
      if (this.kept.has(user)) this.cache.set(user, rel);
      return rel;
    }
  }

  /** Keeps `user`'s relations in memory from their next load on (a conversation of theirs is loading). */
  keep(user: string): void {
    this.kept.add(user);
  }

  /** Lets `user`'s relations leave memory (their last loaded conversation unloaded). */
  forget(user: string): void {
    this.kept.delete(user);
    this.cache.delete(user);
  }

  /**
   * Another process of the cluster changed these users' relations: those
   * kept here are read again (a read under way is read again too), then
   * `refreshed` hears of them.
   */
  async changedElsewhere(users: readonly string[]): Promise<void> {
    for (const user of users) {
      if (this.loading.has(user)) this.stale.add(user);
      if (!this.kept.has(user)) continue;
      this.cache.delete(user);
      await this.load(user);
    }
  }

  /** How many users' relations are in memory (tests, metrics). */
  get size(): number {
    return this.cache.size;
  }

  /** The user's relations if loaded (the accept path: loaded with the conversation). */
  peek(user: string): UserRelations | undefined {
    return this.cache.get(user);
  }

  async request(from: string, to: string, note: string | null): Promise<void> {
    const [a, b] = await this.both(from, to);
    if (a.friends.has(to) && b.friends.has(from)) throw new Refusal('already-friends');
    if (b.blocked.has(from)) {
      // In silent mode a blocked sender sees the request as sent, and it goes nowhere.
      if (this.settings.get().blocklistMode === 'silent') return;
      throw new Refusal('blocked');
    }
    this.roomFor(a);
    await this.apply([{ op: 'put', row: { owner: from, kind: 'request', other: to, note, created: Date.now() } }]);
  }

  async accept(user: string, from: string): Promise<void> {
    const [me, them] = await this.both(user, from);
    if (!me.requestsIn.has(from)) throw new Refusal('request-not-found');
    this.roomFor(me);
    this.roomFor(them);
    const now = Date.now();
    await this.apply([
      { op: 'delete', owner: from, kind: 'request', other: user },
      { op: 'delete', owner: user, kind: 'request', other: from },
      { op: 'put', row: { owner: user, kind: 'friend', other: from, note: null, created: now } },
      { op: 'put', row: { owner: from, kind: 'friend', other: user, note: null, created: now } },
    ]);
  }

  async decline(user: string, from: string): Promise<void> {
    const [me] = await this.both(user, from);
    if (!me.requestsIn.has(from)) throw new Refusal('request-not-found');
    await this.apply([{ op: 'delete', owner: from, kind: 'request', other: user }]);
  }

  /** Removes the friendship both ways. */
  async remove(user: string, other: string): Promise<void> {
    await this.both(user, other);
    await this.apply([
      { op: 'delete', owner: user, kind: 'friend', other },
      { op: 'delete', owner: other, kind: 'friend', other: user },
    ]);
  }

  /** Admin friend delete: takes `other` out of `owner`'s list, and `owner` out of theirs when `bothWays`. */
  async removeFriend(owner: string, other: string, bothWays: boolean): Promise<void> {
    await this.both(owner, other);
    const changes: RelationChange[] = [{ op: 'delete', owner, kind: 'friend', other }];
    if (bothWays) changes.push({ op: 'delete', owner: other, kind: 'friend', other: owner });
    await this.apply(changes);
  }

  /** Admin friend import: adds `friends` to `owner`'s list, one way unless `bothWays`. */
  async addFriends(owner: string, friends: readonly string[], bothWays: boolean): Promise<void> {
    const rel = await this.load(owner);
    const fresh = new Set(friends.filter((f) => !rel.friends.has(f)));
    if (rel.friends.size + fresh.size > LIMITS.friendsSize) throw new Refusal('friends-full');
    const now = Date.now();
    const changes: RelationChange[] = [];
    for (const other of new Set(friends)) {
      if (other === owner) throw new Refusal('self-relation');
      changes.push({ op: 'put', row: { owner, kind: 'friend', other, note: null, created: now } });
      if (!bothWays) continue;
      const them = await this.load(other);
      if (!them.friends.has(owner)) this.roomFor(them);
      changes.push({ op: 'put', row: { owner: other, kind: 'friend', other: owner, note: null, created: now } });
    }
    await this.apply(changes);
  }

  async block(user: string, other: string): Promise<void> {
    const [me] = await this.both(user, other);
    if (me.blocked.has(other)) return;
    if (me.blocked.size >= LIMITS.blocklistSize) throw new Refusal('blocklist-full');
    const changes: RelationChange[] = [{ op: 'put', row: { owner: user, kind: 'block', other, note: null, created: Date.now() } }];
    // A blocked user's pending request is dropped; the friendship too unless the install keeps it.
    changes.push({ op: 'delete', owner: other, kind: 'request', other: user });
    if (!this.settings.get().blockKeepsFriendship) {
      changes.push({ op: 'delete', owner: user, kind: 'friend', other }, { op: 'delete', owner: other, kind: 'friend', other: user });
    }
    await this.apply(changes);
  }

  async unblock(user: string, other: string): Promise<void> {
    await this.both(user, other);
    await this.apply([{ op: 'delete', owner: user, kind: 'block', other }]);
  }

  private async both(user: string, other: string): Promise<[UserRelations, UserRelations]> {
    if (user === other) throw new Refusal('self-relation');
    return [await this.load(user), await this.load(other)];
  }

  /** A friend list holds at most LIMITS.friendsSize (the hosted service's 3,000). */
  private roomFor(rel: UserRelations): void {
    if (rel.friends.size >= LIMITS.friendsSize) throw new Refusal('friends-full');
  }

  /** Durable first, then the cache, then the inboxes. */
  private async apply(changes: readonly RelationChange[]): Promise<void> {
    await this.storage.changeRelations(changes);
    const touched = new Set<string>();
    for (const c of changes) {
      const key = c.op === 'put' ? c.row : c;
      const since = c.op === 'put' ? { created: c.row.created, note: c.row.note } : null;
      touched.add(key.owner).add(key.other);
      for (const user of [key.owner, key.other]) if (this.loading.has(user)) this.stale.add(user);
      const owner = this.cache.get(key.owner);
      if (owner !== undefined) set(ownMap(owner, key.kind), key.other, since);
      if (key.kind === 'request') {
        const other = this.cache.get(key.other);
        if (other !== undefined) set(other.requestsIn, key.owner, since);
      }
    }
    this.onChange([...touched]);
  }
}

function ownMap(rel: UserRelations, kind: RelationKind): Map<string, Since> {
  return kind === 'friend' ? rel.friends : kind === 'block' ? rel.blocked : rel.requestsOut;
}

function set(map: Map<string, Since>, key: string, value: Since | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}
