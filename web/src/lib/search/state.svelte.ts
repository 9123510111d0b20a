/** The search screen's state: the query as typed, and its results (offline, from Dexie) with the names of their conversations. */
import { db } from '../db.ts';
import { report } from '../shared/errors.ts';
import { searchMessages, type SearchResult } from './search.ts';

/** Keystrokes within this long run one search. */
const SEARCH_DEBOUNCE_MS = 120;

export interface LabelledResult extends SearchResult {
  /** The conversation's name (the peer's nickname). */
  name: string;
  avatar?: string | undefined;
}

export class SearchState {
  query = $state('');
  results = $state.raw<LabelledResult[]>([]);
  /** The results are for the current query (false while a search runs). */
  settled = $state(true);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #run = 0;

  /** Sets the query and searches after a short pause. */
  set(query: string): void {
    this.query = query;
    clearTimeout(this.#timer);
    this.settled = false;
    this.#timer = setTimeout(() => void this.#search(query), SEARCH_DEBOUNCE_MS);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#run++;
    this.query = '';
    this.results = [];
    this.settled = true;
  }

  async #search(query: string): Promise<void> {
    const run = ++this.#run;
    try {
      const found = await searchMessages(query);
      const peers = [...new Set(found.map((r) => r.peer))];
      const profiles = await db.profiles.bulkGet(peers);
      const byPeer = new Map(peers.map((p, i) => [p, profiles[i]]));
      if (run !== this.#run) return;
      this.results = found.map((r) => ({ ...r, name: byPeer.get(r.peer)?.nickname || r.peer, avatar: byPeer.get(r.peer)?.avatar }));
    } catch (e) {
      report(e);
    } finally {
      if (run === this.#run) this.settled = true;
    }
  }
}
