/**
 * The server's writes into `inbox/<user>` (no client may write there): the
 * conversation list entry per peer and the cache of the peers' profiles.
 * Each function changes a Y.Doc only; the caller runs it inside LiveDoc.write.
 */
import type * as Y from 'yjs';
import { previewOf, type InboxEntry, type Message, type ProfileEntry } from '@parley/protocol';

export interface Stamped {
  message: Message;
  seq: number;
}

const conversations = (inbox: Y.Doc): Y.Map<InboxEntry> => inbox.getMap<InboxEntry>('conversations');

/**
 * Records accepted messages of the conversation between the inbox's owner and
 * `peer`; `countUnread: false` (imported history) leaves the unread count as is.
 */
export function recordMessages(inbox: Y.Doc, peer: string, segment: string, stamped: readonly Stamped[], lastSeq: number, now: number, countUnread = true): void {
  const newest = stamped.at(-1);
  if (newest === undefined) return;
  const prev = conversations(inbox).get(peer);
  const fromPeer = countUnread ? stamped.filter((s) => s.message.from === peer).length : 0;
  const last =
    prev?.last !== undefined && prev.last.seq > newest.seq
      ? prev.last
      : { id: newest.message.id, from: newest.message.from, preview: previewOf(newest.message), ts: newest.message.ts, seq: newest.seq };
  conversations(inbox).set(peer, {
    peer,
    // Segments are YYYY-MM, so string order is time order.
    segment: prev !== undefined && prev.segment > segment ? prev.segment : segment,
    lastSeq: Math.max(lastSeq, prev?.lastSeq ?? 0),
    last,
    unread: (prev?.unread ?? 0) + fromPeer,
    updatedAt: now,
  });
}

/**
 * A message was recalled by `by`: when it is the conversation's `last`, its
 * preview becomes `preview` (the old text goes, and the erasure that follows
 * drops it from storage) and it says who recalled it (`recalledBy`), for the
 * clients to word it for their user.
 */
export function recallInInbox(inbox: Y.Doc, peer: string, msgId: string, preview: string, by: string, now: number): void {
  const prev = conversations(inbox).get(peer);
  if (prev?.last?.id !== msgId) return;
  conversations(inbox).set(peer, { ...prev, last: { ...prev.last, preview, recalledBy: by }, updatedAt: now });
}

export function setUnread(inbox: Y.Doc, peer: string, unread: number, now: number): void {
  const prev = conversations(inbox).get(peer);
  if (prev === undefined || prev.unread === unread) return;
  conversations(inbox).set(peer, { ...prev, unread, updatedAt: now });
}

/** The owner's unread messages over every conversation (the app badge). */
export function totalUnread(inbox: Y.Doc): number {
  let total = 0;
  for (const entry of conversations(inbox).values()) total += entry.unread;
  return total;
}

/** Caches a peer's profile; writes only when it changed, so the inbox does not grow for nothing. */
export function setProfile(inbox: Y.Doc, profile: ProfileEntry): void {
  const profiles = inbox.getMap<ProfileEntry>('profiles');
  const prev = profiles.get(profile.id);
  if (prev?.nickname === profile.nickname && prev.avatar === profile.avatar && prev.about === profile.about) return;
  profiles.set(profile.id, profile);
}

/** A relation as devices see it in `inbox/<user>`: `friends[id]`, `blocklist[id]`, `requests["in|<from>" | "out|<to>"]`. */
export interface RelationView {
  friends: ReadonlyMap<string, { created: number }>;
  blocked: ReadonlyMap<string, { created: number }>;
  requestsIn: ReadonlyMap<string, { created: number; note: string | null }>;
  requestsOut: ReadonlyMap<string, { created: number; note: string | null }>;
}

/** Makes the inbox's `friends`, `blocklist` and `requests` maps match `view`, writing only what differs. */
export function setRelations(inbox: Y.Doc, owner: string, view: RelationView): void {
  const sync = (name: string, want: Map<string, Record<string, unknown>>): void => {
    const map = inbox.getMap<Record<string, unknown>>(name);
    for (const key of [...map.keys()]) if (!want.has(key)) map.delete(key);
    for (const [key, value] of want) if (JSON.stringify(map.get(key)) !== JSON.stringify(value)) map.set(key, value);
  };
  sync('friends', new Map([...view.friends].map(([id, s]) => [id, { id, since: s.created }])));
  sync('blocklist', new Map([...view.blocked].map(([id, s]) => [id, { id, since: s.created }])));
  const requests = new Map<string, Record<string, unknown>>();
  for (const [from, s] of view.requestsIn) requests.set(`in|${from}`, { from, to: owner, note: s.note ?? '', ts: s.created });
  for (const [to, s] of view.requestsOut) requests.set(`out|${to}`, { from: owner, to, note: s.note ?? '', ts: s.created });
  sync('requests', requests);
}
