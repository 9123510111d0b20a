/**
 * Two offline devices of one user change drafts, react and read different
 * conversations; after reconnecting every device shows the same state: the
 * same drafts in the list, the same reactions on the messages (the peer sees
 * them too), no unread left in either read conversation, and the sender's
 * ticks say Read.
 *
 * Reactions are MessageItem's contract: a "Message actions" button opens a
 * menu with "React with 👍" (…); a chip under the bubble shows "👍 1" with
 * aria-pressed when I reacted.
 */
import { expect, test, type Device } from '../fixtures.ts';

const FROM_BOB = ['Lunch tomorrow?', 'Bring the slides'];
const FROM_CAROL = ['Call me back', 'Photos from the trip'];
const DRAFT_A1 = 'Sure, 12:30 at the usual place';
const DRAFT_A2 = 'Calling you tonight';

/** The number of messages of a conversation this device holds (the client API). */
function held(device: Device, peer: string): Promise<number> {
  return device.page.evaluate((p) => (window as unknown as { parley: { count(peer: string): Promise<number> } }).parley.count(p), peer);
}

async function react(device: Device, text: string, emoji: string): Promise<void> {
  const message = device.message(text);
  await message.hover();
  await message.getByRole('button', { name: 'Message actions' }).click();
  await device.page.getByRole('button', { name: `React with ${emoji}` }).click();
  await expect(chip(device, text, emoji)).toHaveAttribute('aria-pressed', 'true');
}

function chip(device: Device, text: string, emoji: string) {
  return device.message(text).getByRole('button', { name: new RegExp(`^${emoji} 1`) });
}

/** Types a draft in the open conversation and leaves it for the list. */
async function leaveDraft(device: Device, text: string): Promise<void> {
  await device.composer().fill(text);
  await device.page.goBack();
  await expect(device.page).toHaveURL(/\/$/);
}

function draftIn(device: Device, peer: string) {
  return device.conversationLink(peer).locator('.conversation-preview');
}

test('two offline devices of one user converge on drafts, reactions and read markers', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  await parley.signup('carol', 'Carol');
  for (const text of FROM_BOB) await parley.admin('POST', '/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text }] });
  for (const text of FROM_CAROL) await parley.admin('POST', '/messages', { from: 'carol', to: 'alice', body: [{ type: 'text', text }] });

  const a1 = await parley.signedIn('alice-1', 'alice', { controllableNetwork: true });
  const a2 = await parley.signedIn('alice-2', 'alice', { controllableNetwork: true });
  const bob = await parley.signedIn('bob', 'bob');
  for (const device of [a1, a2]) {
    await device.waitForServiceWorker();
    await expect(device.unreadBadge('bob', 2)).toBeVisible();
    await expect(device.unreadBadge('carol', 2)).toBeVisible();
    // The background prefetch brought both conversations onto the device: they read offline.
    await expect.poll(() => held(device, 'bob'), { message: `${device.name} holds bob's messages` }).toBe(2);
    await expect.poll(() => held(device, 'carol'), { message: `${device.name} holds carol's messages` }).toBe(2);
  }

  await a1.offline();
  await a2.offline();
  await expect(a1.offlineBanner()).toBeVisible();
  await expect(a2.offlineBanner()).toBeVisible();

  // Alice-1 reads Bob, reacts and leaves a draft there.
  await a1.openConversation('bob', 'Bob');
  await react(a1, FROM_BOB[0] ?? '', '👍');
  await leaveDraft(a1, DRAFT_A1);
  await expect(draftIn(a1, 'bob')).toHaveText(`Draft: ${DRAFT_A1}`);
  await expect(a1.conversationLink('bob').getByLabel(/unread/)).toHaveCount(0);

  // Alice-2 reads Carol, reacts and leaves a different draft there.
  await a2.openConversation('carol', 'Carol');
  await react(a2, FROM_CAROL[1] ?? '', '❤️');
  await leaveDraft(a2, DRAFT_A2);
  await expect(draftIn(a2, 'carol')).toHaveText(`Draft: ${DRAFT_A2}`);

  await a1.online();
  await a2.online();

  for (const device of [a1, a2]) {
    await expect(device.offlineBanner()).toBeHidden();
    await expect(draftIn(device, 'bob'), `${device.name} shows alice-1's draft`).toHaveText(`Draft: ${DRAFT_A1}`);
    await expect(draftIn(device, 'carol'), `${device.name} shows alice-2's draft`).toHaveText(`Draft: ${DRAFT_A2}`);
    await expect(device.conversationLink('bob').getByLabel(/unread/), `${device.name}: bob read`).toHaveCount(0);
    await expect(device.conversationLink('carol').getByLabel(/unread/), `${device.name}: carol read`).toHaveCount(0);
  }
  for (const device of [a1, a2]) {
    await device.openConversation('bob', 'Bob');
    await expect(chip(device, FROM_BOB[0] ?? '', '👍')).toHaveAttribute('aria-pressed', 'true');
    await device.page.goBack();
    await device.openConversation('carol', 'Carol');
    await expect(chip(device, FROM_CAROL[1] ?? '', '❤️')).toHaveAttribute('aria-pressed', 'true');
    await device.page.goBack();
  }

  // Bob sees Alice's reaction, and his messages read.
  await bob.openConversation('alice', 'Alice');
  await expect(chip(bob, FROM_BOB[0] ?? '', '👍')).toHaveAttribute('aria-pressed', 'false');
  for (const text of FROM_BOB) await expect(bob.message(text).locator('.state-icon')).toHaveText('Read');
});
