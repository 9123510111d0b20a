/**
 * The PWA starts with no network: after one online visit, the service worker
 * serves the app shell and the device shows what it has stored. The screens
 * that load at their first use (chunks of their own: Settings, New chat, the
 * sign-out dialog) come from the service worker's precache too.
 */
import { expect, test } from '../fixtures.ts';

test('after one online visit the app loads offline and shows stored conversations and messages', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await parley.signedIn('alice', 'alice', { controllableNetwork: true });

  await alice.startChat('bob', 'Bob');
  await alice.send('Lunch tomorrow?');
  await bob.openConversation('alice', 'Alice');
  await bob.send('Sure, 12:30 🍜');
  await expect(alice.messageTexts()).toHaveText(['Lunch tomorrow?', 'Sure, 12:30 🍜']);
  await expect(alice.message('Lunch tomorrow?')).not.toHaveAttribute('data-state', 'pending');

  await alice.waitForServiceWorker();

  // Offline for real: the network is cut and the server is gone, so only the
  // service worker and the device's own store can answer.
  await alice.offline();
  await parley.server.child.stop();

  await alice.page.reload();
  await expect(alice.offlineBanner()).toBeVisible();
  await alice.expectConversationOpen('bob', 'Bob');
  await expect(alice.messageTexts()).toHaveText(['Lunch tomorrow?', 'Sure, 12:30 🍜']);
  await expect(alice.conversationLink('bob')).toContainText('Bob');

  // A cold start at the app's root works too.
  await alice.page.goto('/');
  await expect(alice.conversationLink('bob')).toContainText('Bob');
  await alice.openConversation('bob', 'Bob');
  await expect(alice.messageTexts()).toHaveText(['Lunch tomorrow?', 'Sure, 12:30 🍜']);

  // Screens loaded at their first use, never opened on this page: from the service worker's precache.
  await alice.page.getByRole('button', { name: 'Settings' }).click();
  const settings = alice.page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.getByRole('heading', { name: 'Privacy' })).toBeVisible();
  await alice.page.keyboard.press('Escape');
  await expect(settings).toBeHidden();
  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  const signOut = alice.page.getByRole('dialog', { name: 'Sign out?' });
  await expect(signOut).toBeVisible();
  await signOut.getByRole('button', { name: 'Cancel' }).click();
  await expect(signOut).toBeHidden();
  await alice.page.getByRole('button', { name: 'New chat' }).click();
  await expect(alice.page.getByRole('button', { name: 'Invite someone' })).toBeVisible();
});
