/**
 * The route is the URL: `/` the list, `/contacts` the contacts screen,
 * `/c/<peer>` a conversation, `/c/<peer>/m/<msgId>` one message in it
 * (history API; reload and back work).
 */

import { parseConversationPath } from './conversationPath.ts';

class Router {
  path = $state(typeof location === 'undefined' ? '/' : location.pathname);

  /** The peer of the open conversation (`/c/<peer>` or `/c/<peer>/m/<msgId>`), or null on the list. */
  get peer(): string | null {
    return parseConversationPath(this.path)?.peer ?? null;
  }

  /** The message the conversation opens at (`/c/<peer>/m/<msgId>`: search results, reply quotes), or null. */
  get messageId(): string | null {
    return parseConversationPath(this.path)?.messageId ?? null;
  }

  /** The contacts screen is open. */
  get contacts(): boolean {
    return /^\/contacts\/?$/.test(this.path);
  }

  navigate(path: string, replace = false): void {
    if (path === this.path) return;
    if (replace) history.replaceState(history.state, '', path);
    else history.pushState({ parley: true }, '', path);
    this.path = path;
  }

  /** Back to the list: through history when the app put the conversation there, else directly. */
  back(): void {
    if ((history.state as { parley?: unknown } | null)?.parley === true) history.back();
    else this.navigate('/', true);
  }

  /** Follows back and forward; returns the detach function. */
  start(): () => void {
    const onPop = (): void => {
      this.path = location.pathname;
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }
}

export { conversationHref } from '../shared/routes.ts';

export const router = new Router();
