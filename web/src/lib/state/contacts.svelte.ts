/** The contacts screen and the block state of a conversation: `relations` rows with profiles. */
import { db, type RelationRow } from '../db.ts';
import { report } from '../shared/errors.ts';
import { Live } from './live.svelte.ts';

export interface Contact {
  id: string;
  name: string;
  avatar?: string | undefined;
  note: string;
  ts: number;
}

interface Snapshot {
  friends: Contact[];
  incoming: Contact[];
  outgoing: Contact[];
  blocked: Contact[];
}

const EMPTY: Snapshot = { friends: [], incoming: [], outgoing: [], blocked: [] };

export class Contacts {
  readonly #live: Live<Snapshot>;

  constructor() {
    this.#live = new Live<Snapshot>(
      async () => {
        const [rows, profiles] = await Promise.all([db.relations.toArray(), db.profiles.toArray()]);
        const profileOf = new Map(profiles.map((p) => [p.id, p]));
        const of = (kind: RelationRow['kind']): Contact[] =>
          rows
            .filter((r) => r.kind === kind)
            .map((r) => {
              const p = profileOf.get(r.id);
              return { id: r.id, name: p?.nickname || r.id, avatar: p?.avatar, note: r.note, ts: r.ts };
            })
            .sort((a, b) => a.name.localeCompare(b.name));
        return { friends: of('friend'), incoming: of('in'), outgoing: of('out'), blocked: of('block') };
      },
      EMPTY,
      report,
    );
  }

  get friends(): Contact[] {
    return this.#live.current.friends;
  }
  get incoming(): Contact[] {
    return this.#live.current.incoming;
  }
  get outgoing(): Contact[] {
    return this.#live.current.outgoing;
  }
  get blocked(): Contact[] {
    return this.#live.current.blocked;
  }
  get loaded(): boolean {
    return this.#live.loaded;
  }

  isBlocked(id: string): boolean {
    return this.blocked.some((c) => c.id === id);
  }

  isFriend(id: string): boolean {
    return this.friends.some((c) => c.id === id);
  }

  hasOutgoing(id: string): boolean {
    return this.outgoing.some((c) => c.id === id);
  }
}
