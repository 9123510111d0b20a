/** The app's URLs, for the page's router and for the service worker (which has no router). */

/** A conversation: `/c/<peer>`. */
export const conversationHref = (peer: string): string => `/c/${encodeURIComponent(peer)}`;
