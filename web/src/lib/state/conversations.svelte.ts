/** The conversation list as rune state: a live query of `loadLists` (conversationList.ts). */
import { report } from '../shared/errors.ts';
import { loadLists, type ConversationItem, type ConversationLists } from './conversationList.ts';
import { Live } from './live.svelte.ts';

export type { ConversationItem, ConversationLists } from './conversationList.ts';

export class ConversationList {
  readonly #live: Live<ConversationLists>;

  constructor(me: string) {
    this.#live = new Live(() => loadLists(me), { main: [], archived: [] }, report);
  }

  /** The main list (archived conversations left out). */
  get items(): ConversationItem[] {
    return this.#live.current.main;
  }

  get archived(): ConversationItem[] {
    return this.#live.current.archived;
  }

  get loaded(): boolean {
    return this.#live.loaded;
  }
}
