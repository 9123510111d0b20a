/**
 * Nothing a blocked user can see tells them they are blocked: after Bob
 * blocks Alice, her screen shows him neither reading nor online (typing: the
 * server's tests, sync-server/test/presence-hostile.test.ts);
 * after he unblocks her, his read state and presence come back.
 */
import { expect, test, type Device } from '../fixtures.ts';

/** The accessible label of a message's state icon (StateIcon.svelte: STATE_LABELS). */
const stateLabel = (device: Device, text: string) => device.message(text).locator('.state-icon');

test('a blocker’s reading and presence never reach the blocked user; after unblock they do', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  const bobSession = await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await expect(bob.conversationList()).toBeVisible();
  await alice.startChat('bob', 'Bob');
  await alice.send('read me later');
  await expect(stateLabel(alice, 'read me later')).toHaveText('Delivered');

  await parley.userApi(bobSession, 'PUT', '/blocklist/alice', {});
  // Bob reads her message, and writes to her (he may: she did not block him).
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['read me later']);
  await bob.send('one more thing');
  await expect(alice.message('one more thing')).toBeVisible();
  // His message came after his reading and his presence: she sees neither.
  await expect(stateLabel(alice, 'read me later')).toHaveText('Delivered');
  const subtitle = alice.page.getByRole('region', { name: 'Bob' }).locator('.subtitle');
  await expect(subtitle).toHaveText('bob');

  await parley.userApi(bobSession, 'DELETE', '/blocklist/alice');
  // His open conversation writes the read receipt again, and his presence shows.
  await expect(stateLabel(alice, 'read me later')).toHaveText('Read');
  await expect(subtitle).toHaveText('online');
});
