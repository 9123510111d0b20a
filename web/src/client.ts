/**
 * The client API for developers embedding Parley (docs/client-api.md),
 * exposed as `window.parley`: the signed-in user, the events, and what the
 * UI itself does — send, search, open a conversation (at a message), the
 * conversation list, drafts.
 */
import { conversationId } from '@parley/protocol';
import { db } from './lib/db.ts';
import { messageHref } from './lib/shared/routes.ts';
import { searchMessages, type SearchResult } from './lib/search/search.ts';
import { draftOf, saveDraft, clearDraft, type Draft, type DraftInput } from './lib/services/drafts.ts';
import { send } from './lib/services/messaging.ts';
import { setMuted } from './lib/services/mute.ts';
import { setArchived, setPinned } from './lib/services/conversationPrefs.ts';
import { loadLists, type ConversationLists } from './lib/state/conversationList.ts';
import { conversationHref, router } from './lib/state/router.svelte.ts';
import { session } from './lib/state/session.svelte.ts';
import { clientEvents, syncFeed, type ClientEvents, type SyncState } from './lib/shared/events.ts';

export interface ParleyClient {
  /** The signed-in user id, or null. */
  readonly user: string | null;
  /** The last `sync` state (`finished`: this device is in step with the server), or null before the first sync. */
  readonly syncState: SyncState | null;
  /** Listens to `message`, `conversation`, `sync` or `connection`; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(name: K, listener: (event: ClientEvents[K]) => void): () => void;
  /** Sends a text message (offline too: it waits in the outbox); resolves to its id. */
  send(peer: string, text: string): Promise<string>;
  /** Searches the messages on this device (offline), newest first. */
  search(query: string, limit?: number): Promise<SearchResult[]>;
  /** Opens a conversation, at one message when `msgId` is given. */
  open(peer: string, msgId?: string): void;
  /** The conversation list as shown: the main list (pinned first) and the archived one. */
  conversations(): Promise<ConversationLists>;
  /** The number of messages this device holds for a conversation. */
  count(peer: string): Promise<number>;
  setPinned(peer: string, pinned: boolean): Promise<void>;
  setMuted(peer: string, muted: boolean): Promise<void>;
  setArchived(peer: string, archived: boolean): Promise<void>;
  draftOf(peer: string): Promise<Draft | undefined>;
  saveDraft(peer: string, draft: DraftInput): void;
  clearDraft(peer: string): Promise<void>;
}

function me(): string {
  const user = session.user;
  if (user === null) throw new Error('Not signed in');
  return user;
}

export const client: ParleyClient = {
  get user() {
    return session.user;
  },
  get syncState() {
    return syncFeed.state;
  },
  on: (name, listener) => clientEvents.on(name, listener),
  send,
  search: (query, limit) => searchMessages(query, limit),
  open: (peer, msgId) => router.navigate(msgId === undefined ? conversationHref(peer) : messageHref(peer, msgId)),
  conversations: () => loadLists(me()),
  count: (peer) => db.messages.where('conv').equals(conversationId(me(), peer)).count(),
  setPinned,
  setMuted,
  setArchived,
  draftOf,
  saveDraft,
  clearDraft,
};
