/**
 * A sign-in link, opened by the app's backend: `#usersig=<UserSig>&user=<id>`
 * (the hosted chat service's signature) or `#app-token=<token>`. The
 * credential travels in the fragment, which the browser never sends, so it
 * is in no server's or proxy's log.
 */
export type SignInLink = { usersig: string; user: string } | { appToken: string; user: string | null };

/**
 * The user an app token (a JWT) names, unverified: only to compare with the
 * user signed in on this device; the server checks the token.
 */
function subjectOf(token: string): string | null {
  try {
    const payload: unknown = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')));
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** The link in a location's fragment (`location.hash`), or null when it holds none. */
export function signInLinkIn(hash: string): SignInLink | null {
  const fields = new Map<string, string>();
  for (const pair of hash.replace(/^#/, '').split('&')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    // By hand, not URLSearchParams: that reads `+` as a space, and a token may hold one.
    try {
      fields.set(pair.slice(0, at), decodeURIComponent(pair.slice(at + 1)));
    } catch {
      // A malformed %-escape: not a value of ours.
    }
  }
  const usersig = fields.get('usersig');
  const user = fields.get('user');
  if (usersig !== undefined && usersig !== '' && user !== undefined && user !== '') return { usersig, user };
  const appToken = fields.get('app-token');
  if (appToken !== undefined && appToken !== '') return { appToken, user: subjectOf(appToken) };
  return null;
}
