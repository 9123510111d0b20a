/**
 * Sessions that end, as a person sees them: a device signed out from
 * elsewhere lands on the sign-in screen and says why; signing out asks
 * first (unsent messages are sent first, or deleted only when the user says
 * so) and ends the session on the server; two tabs refreshing at once stay signed in (the
 * second must not spend the refresh token the first already rotated).
 */
import type { Session, SessionInfo } from '@parley/protocol';
import { expect, test, type Parley } from '../fixtures.ts';

/** In the page: refresh the access token now (lib/services/devApi.ts). */
const refreshNow = async (): Promise<void> => {
  const parley = (window as unknown as { parley?: { dev?: { refresh?: () => Promise<void> } } }).parley;
  const refresh = parley?.dev?.refresh;
  if (refresh === undefined) throw new Error('window.parley.dev.refresh is missing');
  await refresh();
};

/** The sessions of `session`'s user, from the server. */
async function sessionsOf(parley: Parley, session: Session): Promise<SessionInfo[]> {
  return ((await parley.userApi(session, 'GET', '/me/sessions')) as { sessions: SessionInfo[] }).sessions;
}

test('a device signed out from another device shows the sign-in screen and says why', async ({ parley }) => {
  const setup = await parley.signup('alice', 'Alice');
  const phone = await parley.signedIn('alice-phone', 'alice');
  const browser = (await sessionsOf(parley, setup)).find((s) => !s.current);
  expect(browser, 'the browser signed in as a session of its own').toBeDefined();

  const response = await fetch(`${parley.url}/api/v1/me/sessions/${browser?.id ?? ''}`, { method: 'DELETE', headers: { authorization: `Bearer ${setup.accessToken}` } });
  expect(response.status).toBe(204);

  await expect(phone.page.getByText('This device was signed out. Sign in again.')).toBeVisible();
  await expect(phone.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  // Signing in again works, and the conversations come back.
  await phone.signIn('alice');
});

test('signing out asks first, sends unsent messages first or deletes them only when told, and ends the session on the server', async ({ parley }) => {
  const setup = await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const phone = await parley.signedIn('alice-phone', 'alice', { controllableNetwork: true });
  expect(await sessionsOf(parley, setup)).toHaveLength(2);
  await phone.startChat('bob', 'Bob');
  const signOut = phone.page.getByRole('button', { name: 'Sign out' });
  const dialog = phone.page.getByRole('dialog', { name: 'Sign out?' });

  // Asked first; Cancel keeps the device signed in.
  await signOut.click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(phone.conversationList()).toBeVisible();

  // Offline, a message waits: the dialog counts it and offers to send it first, which waits for the network.
  await phone.offline();
  await phone.send('see you at 8');
  await expect(phone.message('see you at 8')).toHaveAttribute('data-state', 'pending');
  await signOut.click();
  await expect(dialog).toContainText('1 message has not been sent yet');
  await expect(dialog.getByRole('button', { name: 'Sign out anyway (delete 1 unsent)' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Send first' }).click();
  await expect(dialog.getByRole('status')).toContainText('You are offline');
  await phone.online();
  // Sent, then signed out: the server has the message and the session is over.
  await expect(phone.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect.poll(async () => (await sessionsOf(parley, setup)).map((s) => s.current)).toEqual([true]);

  // Signed in again: the message went out. Offline again, "Sign out anyway" deletes the unsent one, as chosen,
  // and the sign-in screen does not carry the ended session's offline banner.
  await phone.signIn('alice');
  await phone.openConversation('bob', 'Bob');
  await expect(phone.message('see you at 8')).toHaveAttribute('data-state', /sent|delivered|read/);
  await phone.offline();
  await expect(phone.offlineBanner()).toBeVisible();
  await phone.send('never mind');
  await signOut.click();
  await dialog.getByRole('button', { name: 'Sign out anyway (delete 1 unsent)' }).click();
  await expect(phone.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(phone.offlineBanner()).toHaveCount(0);
});

test('two tabs refreshing at once both stay signed in', async ({ parley }) => {
  const setup = await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const phone = await parley.signedIn('alice-phone', 'alice');
  const tab = await phone.context.newPage();
  await tab.goto('/');
  await expect(tab.locator('nav[aria-label="Conversations"]')).toBeVisible();

  for (let round = 0; round < 3; round++) {
    await Promise.all([phone.page, tab].map((page) => page.evaluate(refreshNow)));
  }

  // The session is still live on the server, and both tabs are still signed in and working.
  expect(await sessionsOf(parley, setup)).toHaveLength(2);
  for (const page of [phone.page, tab]) await expect(page.locator('nav[aria-label="Conversations"]')).toBeVisible();
  await phone.startChat('bob', 'Bob');
  await phone.send('still signed in');
  await tab.reload();
  await expect(tab.locator('nav[aria-label="Conversations"]')).toBeVisible();
  await expect(tab.getByText('This device was signed out')).toHaveCount(0);
});
