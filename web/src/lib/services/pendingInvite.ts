/**
 * The invite a signed-out visitor landed on (`/invite/<token>`), kept in
 * localStorage until they have signed in or up and it was taken up: not chat
 * data, and it must survive a sign-up, which starts a new Dexie store. Apart
 * from people.ts so that the app's first load, which looks for one, does not
 * carry the people search and invite calls.
 */
const PENDING_KEY = 'parley.pendingInvite';

/** Remembers the invite a visitor landed on, for after sign-in or sign-up. */
export function keepPendingInvite(tok: string): void {
  localStorage.setItem(PENDING_KEY, tok);
}

export function pendingInvite(): string | null {
  return localStorage.getItem(PENDING_KEY);
}

export function forgetPendingInvite(): void {
  localStorage.removeItem(PENDING_KEY);
}
