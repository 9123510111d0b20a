/**
 * The route is the URL: `/` the list, `/contacts` the contacts screen,
 * `/starred` the starred messages,
 * `/c/<peer>` a conversation, `/c/<peer>/m/<msgId>` one message in it,
 * `/invite/<token>` an invite link (who invited you; after sign-in or
 * sign-up, the chat with them) (history API; reload and back work).
 *
 * Each entry the app pushes carries a small state (`RouteState`). A jump
 * within the open conversation (a reply's quote to its original) is an entry
 * of its own, and the entry it leaves remembers the message the user was at
 * (`at`): the browser's Back returns there, in one press. The header's Back
 * leaves the conversation, past its jumps (`jumps`), in one press too.
 */

import { parseConversationPath } from './conversationPath.ts';

interface RouteState {
  /** Pushed by the app over one of its own entries (so Back stays in the app); a jump keeps its conversation entry's. */
  parley?: true;
  /** Entries of the same conversation below this one, pushed by jumps within it. */
  jumps?: number;
  /** The message the user was at when they jumped away from this entry. */
  at?: string;
}

function stateOf(value: unknown): Partial<RouteState> {
  return typeof value === 'object' && value !== null ? value : {};
}

class Router {
  path = $state(typeof location === 'undefined' ? '/' : location.pathname);
  /** This entry's `at`: where the conversation goes back to when the entry has no message of its own. */
  at = $state<string | null>(typeof history === 'undefined' ? null : (stateOf(history.state).at ?? null));

  /** The peer of the open conversation (`/c/<peer>` or `/c/<peer>/m/<msgId>`), or null on the list. */
  get peer(): string | null {
    return parseConversationPath(this.path)?.peer ?? null;
  }

  /** The message the conversation opens at (`/c/<peer>/m/<msgId>`: search results, reply quotes), or null. */
  get messageId(): string | null {
    return parseConversationPath(this.path)?.messageId ?? null;
  }

  /** The Starred view is open (`/starred`). */
  get starred(): boolean {
    return /^\/starred\/?$/.test(this.path);
  }

  /** The contacts screen is open. */
  get contacts(): boolean {
    return /^\/contacts\/?$/.test(this.path);
  }

  /** The token of the invite link opened (`/invite/<token>`), or null. */
  get inviteToken(): string | null {
    return /^\/invite\/([A-Za-z0-9_-]{1,64})\/?$/.exec(this.path)?.[1] ?? null;
  }

  navigate(path: string, replace = false): void {
    if (path === this.path) return;
    if (replace) history.replaceState(history.state, '', path);
    else {
      const here = stateOf(history.state);
      const peer = this.peer;
      // Within the same conversation: one more jump over the entry that entered it, which says where Back goes.
      const within = peer !== null && parseConversationPath(path)?.peer === peer;
      const next: RouteState = within ? { ...(here.parley === true ? { parley: true } : {}), jumps: (here.jumps ?? 0) + 1 } : { parley: true };
      history.pushState(next, '', path);
    }
    this.path = path;
    this.at = stateOf(history.state).at ?? null;
  }

  /**
   * A jump within the open conversation to `path` (a quoted message), from message `from`:
   * the entry left remembers `from`, so that Back returns to it.
   */
  jump(path: string, from: string): void {
    if (path === this.path) return;
    history.replaceState({ ...stateOf(history.state), at: from }, '');
    this.navigate(path);
  }

  /** Back to the list: through history when the app put the conversation there (past its jumps), else directly. */
  back(): void {
    const state = stateOf(history.state);
    if (state.parley === true) history.go(-1 - (state.jumps ?? 0));
    else this.navigate('/', true);
  }

  /** Follows back and forward; returns the detach function. */
  start(): () => void {
    const onPop = (): void => {
      this.path = location.pathname;
      this.at = stateOf(history.state).at ?? null;
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }
}

export { conversationHref } from '../shared/routes.ts';

export const router = new Router();
