/**
 * The Starred view's state: every message I starred (prefs `starred`,
 * materialised into `stars`), newest star first, with its conversation's name.
 * A star whose message this device does not hold (an older segment not
 * synced) is listed from its conversation alone, and opens there.
 */
import { db, type MessageRow } from '../db.ts';
import { report } from '../shared/errors.ts';
import { Live } from './live.svelte.ts';

export interface StarredItem {
  id: string;
  peer: string;
  /** The conversation's name (the peer's nickname). */
  name: string;
  avatar?: string | undefined;
  /** The message, or undefined when the device does not hold it. */
  message?: Pick<MessageRow, 'from' | 'text' | 'ts' | 'recalled'> | undefined;
  starredAt: number;
}

export async function loadStarred(): Promise<StarredItem[]> {
  const stars = await db.stars.orderBy('ts').reverse().toArray();
  const [rows, hidden, profiles] = await Promise.all([
    db.messages.bulkGet(stars.map((s) => s.msg)),
    db.hidden.bulkGet(stars.map((s) => s.msg)),
    db.profiles.bulkGet([...new Set(stars.map((s) => s.peer))]),
  ]);
  const profileOf = new Map(profiles.flatMap((p) => (p === undefined ? [] : [[p.id, p] as const])));
  return stars.flatMap((s, i) => {
    // A message deleted for me leaves the Starred view too.
    if (hidden[i] !== undefined) return [];
    const row = rows[i];
    const profile = profileOf.get(s.peer);
    return [{ id: s.msg, peer: s.peer, name: profile?.nickname || s.peer, avatar: profile?.avatar, message: row, starredAt: s.ts }];
  });
}

export class StarredList {
  readonly #live = new Live(loadStarred, [] as StarredItem[], report);

  get items(): StarredItem[] {
    return this.#live.current;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }
}
