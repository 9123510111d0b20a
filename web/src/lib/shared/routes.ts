/** The app's URLs, for the page's router and for the service worker (which has no router). */

/** A conversation: `/c/<peer>`. */
export const conversationHref = (peer: string): string => `/c/${encodeURIComponent(peer)}`;

/**
 * One message in its conversation: `/c/<peer>/m/<msgId>`. The conversation
 * opens scrolled to the message (fetching its segment when it is not on the
 * device) and highlights it: where search results and reply quotes lead.
 */
export const messageHref = (peer: string, msgId: string): string => `${conversationHref(peer)}/m/${encodeURIComponent(msgId)}`;
