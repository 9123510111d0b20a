/**
 * PARLEY_PUSH_ALLOW: the push services subscriptions may point at
 * (comma-separated), read at start with the rest of the configuration;
 * push/endpoints.ts checks every endpoint against it.
 *
 *   fcm.googleapis.com        that host name exactly
 *   *.notify.windows.com      any host name under that domain (not the domain itself)
 *   *                         any host name (still https:443 and public addresses only)
 *   default                   the browsers' push services, PUSH_ALLOW_DEFAULT
 *   http://127.0.0.1:43210    exactly that origin (scheme, host, port), whatever it
 *                             resolves to: a test's push service, or one on the
 *                             operator's own network
 */

/**
 * The push services of the browsers that can install Parley: Chrome, Edge on
 * Android, Opera and Samsung Internet (FCM: fcm.googleapis.com), Firefox
 * (Mozilla's autopush: updates.push.services.mozilla.com), Edge on Windows
 * (WNS: <region>.notify.windows.com) and Safari (web.push.apple.com).
 */
export const PUSH_ALLOW_DEFAULT = ['fcm.googleapis.com', '*.push.services.mozilla.com', '*.notify.windows.com', 'web.push.apple.com', '*.push.apple.com'] as const;

/** A parsed PARLEY_PUSH_ALLOW. */
export interface PushAllowList {
  /** Host names, lower case: `*` (any), `*.domain` (under it) or an exact name. */
  hosts: string[];
  /** Origins (`scheme://host:port`, as URL.origin writes them) allowed as they are. */
  origins: string[];
}

/** Parses PARLEY_PUSH_ALLOW; throws an Error naming the entry it cannot read. */
export function parsePushAllow(raw: string | undefined): PushAllowList {
  const entries = raw === undefined || raw.trim() === '' ? ['default'] : raw.split(',').map((e) => e.trim());
  const list: PushAllowList = { hosts: [], origins: [] };
  for (const entry of entries) {
    if (entry === '') continue;
    if (entry === 'default') list.hosts.push(...PUSH_ALLOW_DEFAULT);
    else if (entry.includes('://')) {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`"${entry}" is not an origin`);
      }
      if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || !/^[a-z]+:\/\/[^/]+\/?$/i.test(entry)) {
        throw new Error(`"${entry}" is not an http(s) origin (scheme://host[:port], nothing more)`);
      }
      list.origins.push(url.origin);
    } else if (/^(\*|(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*)$/i.test(entry)) list.hosts.push(entry.toLowerCase());
    else throw new Error(`"${entry}" is neither a host name, *.domain, *, default nor an origin`);
  }
  return list;
}
