/** The conversation list: inbox rows with profiles and read markers, newest first. */
import { db } from '../db.ts';
import { report } from '../services/errors.ts';
import { Live } from './live.svelte.ts';

export interface ConversationItem {
  peer: string;
  name: string;
  avatar?: string | undefined;
  preview: string;
  mine: boolean;
  time: number;
  unread: number;
  /** Muted (prefs): no notifications for it. */
  muted: boolean;
}

export class ConversationList {
  readonly #live: Live<ConversationItem[]>;

  constructor(me: string) {
    this.#live = new Live(
      async () => {
        const [rows, profiles, reads, mutes] = await Promise.all([
          db.conversations.orderBy('updatedAt').reverse().toArray(),
          db.profiles.toArray(),
          db.reads.toArray(),
          db.mutes.toArray(),
        ]);
        const lasts = await db.messages.bulkGet(rows.map((r) => r.lastId ?? ''));
        // A system notice is nobody's message: no "You:" before its text.
        const systemIds = new Set(lasts.flatMap((m) => (m?.type === 'system' ? [m.id] : [])));
        const profileOf = new Map(profiles.map((p) => [p.id, p]));
        const readOf = new Map(reads.map((r) => [r.peer, r.seq]));
        const mutedPeers = new Set(mutes.flatMap((m) => (m.muted ? [m.peer] : [])));
        return rows.map((row) => {
          const profile = profileOf.get(row.peer);
          // The inbox's count lags a read made offline on this device; a reply means read too.
          const read = (readOf.get(row.peer) ?? 0) >= row.lastSeq || row.lastFrom === me;
          return {
            peer: row.peer,
            name: profile?.nickname || row.peer,
            avatar: profile?.avatar,
            preview: row.preview,
            mine: row.lastFrom === me && !systemIds.has(row.lastId ?? ''),
            time: row.lastTs,
            unread: read ? 0 : row.unread,
            muted: mutedPeers.has(row.peer),
          };
        });
      },
      [],
      report,
    );
  }

  get items(): ConversationItem[] {
    return this.#live.current;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }
}
