/**
 * Sign-in from a link the app's backend opens (shared/signInLink.ts). The
 * fragment is taken off the address at once, so that the credential stays
 * in neither the address bar, a bookmark, nor a reload; a refusal is shown
 * on the sign-in screen.
 *
 * A link never replaces the user signed in on this device: switching users
 * wipes the device's data (unsent messages too), which a sign-out asks about
 * first, and a link anyone can send must not do it unasked.
 */
import { userIdKey } from '@parley/protocol';
import { AppError } from '../shared/errors.ts';
import { signInLinkIn, type SignInLink } from '../shared/signInLink.ts';
import { session } from '../state/session.svelte.ts';
import { linkRefused, signInWithAppToken, signInWithUserSig } from './session.ts';

/** The sign-in link this page was opened with, removed from the address; null when there is none. */
export function takeSignInLink(): SignInLink | null {
  const link = signInLinkIn(location.hash);
  if (link !== null) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return link;
}

export async function signInWithLink(link: SignInLink): Promise<void> {
  const signedIn = session.current?.user;
  if (signedIn !== undefined) {
    // That user already: nothing to do (and no new session each time the app opens the link).
    if (link.user === null || userIdKey(link.user) !== userIdKey(signedIn)) linkRefused(new AppError('link-other-user'));
    return;
  }
  try {
    if ('usersig' in link) await signInWithUserSig(link.user, link.usersig);
    else await signInWithAppToken(link.appToken);
  } catch (e) {
    linkRefused(e);
  }
}
