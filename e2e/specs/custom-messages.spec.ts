/**
 * Stickers and custom messages between two users: a sticker arrives as its
 * picture (with its alt text), a red packet is opened once by the recipient
 * and shows as opened on both sides, and a round of rock, paper, scissors is
 * played with commit–reveal and scored the same on both sides.
 */
import type { Locator } from '@playwright/test';
import { DESKTOP, type Device, expect, messageObject, PHONE, test } from '../fixtures.ts';

/** The custom card of the last message in the conversation. */
function lastCard(device: Device, kind: string): Locator {
  return device.messages().last().locator(`[data-custom="${kind}"]`);
}

async function openGame(device: Device, label: string): Promise<Locator> {
  await device.page.getByRole('button', { name: 'Games and gifts' }).click();
  await device.page.getByRole('group', { name: 'Games and gifts' }).getByRole('button', { name: label }).click();
  const dialog = device.page.getByRole('dialog', { name: label });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('a sticker reaches the peer as its picture, with its alt text', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  await alice.page.getByRole('button', { name: 'Emoji', exact: true }).click();
  await alice.page.getByRole('tab', { name: 'Stickers' }).click();
  await alice.page.getByRole('button', { name: 'Send sticker: Thumbs up' }).click();
  // Sending closes the picker; the sticker shows at once and then as sent.
  await expect(alice.page.getByRole('tab', { name: 'Stickers' })).toBeHidden();
  const sent = alice.messages().last();
  await expect(sent).toHaveAttribute('data-type', 'face');
  await expect(sent.getByRole('img', { name: 'Thumbs up' })).toBeVisible();
  await expect(sent).toHaveAttribute('data-state', /sent|delivered|read/);

  await expect(bob.conversationLink('alice')).toContainText('Thumbs up');
  await bob.openConversation('alice', 'Alice');
  const sticker = bob.messages().last().getByRole('img', { name: 'Thumbs up' });
  await expect(sticker).toBeVisible();
  await expect(sticker).toHaveAttribute('src', '/stickers/pip/3.svg');
  await expect.poll(() => sticker.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { message: 'the sticker picture loaded' }).toBe(true);
});

test('a kind or a sticker pack this app does not know shows as words: the description, the alt text', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Two from a newer app:');

  // Valid messages the server accepts, from an app with more kinds and packs than this one.
  const base = messageObject({ from: 'alice', to: 'bob', text: 'x', nickname: 'Alice' });
  await alice.writeUnchecked('bob', { ...base, id: `${base.id}p`, type: 'custom', body: [{ type: 'custom', kind: 'poll', data: { q: 'Lunch?' }, description: '📊 Poll: Lunch?' }] });
  await alice.writeUnchecked('bob', { ...base, id: `${base.id}f`, type: 'face', body: [{ type: 'face', pack: 'space-cats', index: 4, alt: '🐱🚀' }] });
  // And a red packet whose data breaks its schema (over the limit).
  await alice.writeUnchecked('bob', { ...base, id: `${base.id}r`, type: 'custom', body: [{ type: 'custom', kind: 'red-packet', data: { amount: 10_000_000, greeting: 'Jackpot' }, description: '🧧 Red packet: Jackpot' }] });

  await bob.openConversation('alice', 'Alice');
  const [poll, face, packet] = [bob.messages().nth(1), bob.messages().nth(2), bob.messages().nth(3)];
  await expect(poll.locator('[data-custom="unsupported"]')).toContainText('Unsupported message');
  await expect(poll).toContainText('📊 Poll: Lunch?');
  await expect(face).toContainText('🐱🚀');
  await expect(face.getByRole('img')).toHaveCount(0);
  await expect(packet.locator('[data-custom="unsupported"]')).toContainText('🧧 Red packet: Jackpot');
  await expect(packet.getByRole('button', { name: 'Open red packet' })).toHaveCount(0);
});

test('the emoji picker searches, is driven by the keyboard, and remembers recent emoji', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const page = alice.page;

  await alice.startChat('bob', 'Bob');
  await alice.composer().fill('Great ');
  await page.getByRole('button', { name: 'Emoji', exact: true }).click();
  // With a keyboard, the search field has the focus at once.
  const search = page.getByRole('searchbox', { name: 'Search emoji' });
  await expect(search).toBeFocused();
  await search.pressSequentially('thumbs');
  const results = page.getByRole('group', { name: 'Search results' }).getByRole('button');
  await expect(results.first()).toHaveAccessibleName('👍 thumbs up');
  // Down into the grid, right to the next one, back, and Enter picks.
  await search.press('ArrowDown');
  await expect(results.first()).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(results.nth(1)).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Enter');
  await expect(alice.composer()).toHaveValue('Great 👍');

  // The picker stays open for more; Escape closes it, and the next time the emoji just used comes first.
  await expect(search).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(search).toBeHidden();
  await page.getByRole('button', { name: 'Emoji', exact: true }).click();
  await expect(page.getByRole('group', { name: 'Recently used' }).getByRole('button').first()).toHaveAccessibleName('👍 thumbs up');
  // Categories jump through the list.
  await page.getByRole('button', { name: 'Food & Drink' }).click();
  await expect(page.getByRole('heading', { name: 'Food & Drink' })).toBeInViewport();
  // Escape from inside the picker gives the focus back to its button.
  await expect(page.getByRole('button', { name: 'Food & Drink' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(search).toBeHidden();
  await expect(page.getByRole('button', { name: 'Emoji', exact: true })).toBeFocused();
});

test('a red packet is opened once, by the recipient, and both see it opened with its amount', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  const dialog = await openGame(alice, 'Red packet');
  await dialog.getByLabel('Amount').fill('8.88');
  await dialog.getByLabel('Greeting').fill('Happy birthday!');
  await dialog.getByRole('button', { name: 'Send red packet' }).click();
  await expect(dialog).toBeHidden();

  const sent = lastCard(alice, 'red-packet');
  await expect(sent).toContainText('Happy birthday!');
  await expect(sent).toContainText('Waiting for Bob to open it');
  // The sender cannot open their own.
  await expect(sent.getByRole('button', { name: 'Open red packet' })).toHaveCount(0);

  await bob.openConversation('alice', 'Alice');
  const received = lastCard(bob, 'red-packet');
  await expect(received).toContainText('Happy birthday!');
  await expect(received).not.toContainText('8.88');
  await received.getByRole('button', { name: 'Open red packet' }).click();

  for (const card of [received, sent]) {
    await expect(card).toHaveAttribute('data-opened', 'true');
    await expect(card).toContainText('Opened');
    await expect(card).toContainText('$8.88');
  }
  await expect(sent).toContainText('Opened by Bob');
  await expect(received.getByRole('button', { name: 'Open red packet' })).toHaveCount(0);

  // Still opened, and still not openable, after a reload (from the device's store and the server).
  await bob.page.reload();
  await bob.expectConversationOpen('alice', 'Alice');
  await expect(lastCard(bob, 'red-packet')).toHaveAttribute('data-opened', 'true');
  await expect(lastCard(bob, 'red-packet').getByRole('button', { name: 'Open red packet' })).toHaveCount(0);
  await expect(lastCard(bob, 'red-packet').getByRole('alert')).toHaveCount(0);
});

test('a conversation whose newest messages are cards opens at its latest message on a new device, and stays there as the last one grows', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.startChat('bob', 'Bob');
  await alice.send('A few cards for you');
  for (const greeting of ['First!', 'Second!', 'Third!']) {
    const dialog = await openGame(alice, 'Red packet');
    await dialog.getByLabel('Amount').fill('1');
    await dialog.getByLabel('Greeting').fill(greeting);
    await dialog.getByRole('button', { name: 'Send red packet' }).click();
    await expect(lastCard(alice, 'red-packet')).toContainText(greeting);
  }
  const dialog = await openGame(alice, 'Rock, paper, scissors');
  await dialog.getByRole('button', { name: 'Rock' }).click();
  await expect(lastCard(alice, 'rps')).toHaveAttribute('data-phase', 'waiting');

  await alice.send('Your move, Bob!');

  // A new device draws the cards for the first time (their views load on demand, and grow when they do):
  // the conversation still opens showing its latest message, with no "Jump to latest".
  const fresh: Device[] = [];
  for (const viewport of [PHONE, DESKTOP]) {
    const device = await parley.signedIn(`alice-${viewport.width}`, 'alice', { viewport });
    await device.openConversation('bob', 'Bob');
    await expect(device.messages().filter({ has: device.page.locator('[data-custom="rps"][data-phase="waiting"]') })).toHaveCount(1);
    await expect(device.messages().last()).toBeInViewport({ ratio: 1 });
    await expect(device.page.getByRole('button', { name: /^Jump to latest/ })).toBeHidden();
    fresh.push(device);
  }
  // The last message grows where it is seen (a reaction from another device): it is still shown whole.
  await (await alice.messageMenu('Your move, Bob!')).getByRole('button', { name: 'React with 👍' }).click();
  for (const device of fresh) {
    await expect(device.message('Your move, Bob!').getByRole('button', { name: '👍 1' })).toBeVisible();
    await expect(device.messages().last()).toBeInViewport({ ratio: 1 });
    await expect(device.page.getByRole('button', { name: /^Jump to latest/ })).toBeHidden();
  }
});

test('a round of rock, paper, scissors: the challenger commits, the opponent plays, both see the same result', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  const dialog = await openGame(alice, 'Rock, paper, scissors');
  await dialog.getByRole('button', { name: 'Rock' }).click();
  await expect(dialog).toBeHidden();

  const challenge = lastCard(alice, 'rps');
  await expect(challenge).toHaveAttribute('data-phase', 'waiting');
  await expect(challenge).toContainText('You picked ✊ Rock');
  await expect(challenge).toContainText('Waiting for Bob to play');

  await bob.openConversation('alice', 'Alice');
  const round = lastCard(bob, 'rps');
  await expect(round).toHaveAttribute('data-phase', 'your-turn');
  // Nothing of Alice's move shows on Bob's side before he plays.
  await expect(round).not.toContainText('Rock ·');
  await round.getByRole('group', { name: 'Your move' }).getByRole('button', { name: 'Paper' }).click();

  // Alice's device reveals by itself; both check it against the commitment.
  await expect(challenge).toHaveAttribute('data-phase', 'result');
  await expect(round).toHaveAttribute('data-phase', 'result');
  await expect(challenge.getByRole('status')).toHaveText('You lose');
  await expect(round.getByRole('status')).toHaveText('You win! 🎉');
  await expect(challenge).toContainText('You: Rock · Bob: Paper');
  await expect(round).toContainText('You: Paper · Alice: Rock');
});

test('a red packet opened offline is delivered when the network returns, and a second open is refused', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bobPhone = await parley.signedIn('bob-phone', 'bob', { controllableNetwork: true });
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob', { controllableNetwork: true });

  await alice.startChat('bob', 'Bob');
  const dialog = await openGame(alice, 'Red packet');
  await dialog.getByLabel('Amount').fill('12');
  await dialog.getByLabel('Greeting').fill('For the train');
  await dialog.getByRole('button', { name: 'Send red packet' }).click();
  const sent = lastCard(alice, 'red-packet');
  await expect(sent).toContainText('Waiting for Bob to open it');

  for (const bob of [bobPhone, bobLaptop]) {
    await bob.openConversation('alice', 'Alice');
    await bob.waitForServiceWorker();
    await bob.expectConversationOpen('alice', 'Alice');
    await expect(lastCard(bob, 'red-packet').getByRole('button', { name: 'Open red packet' })).toBeVisible();
    await bob.offline();
    await expect(bob.offlineBanner()).toBeVisible();
  }

  // Offline, the phone opens it: it shows at once, survives a reload, and goes out when the network returns.
  await lastCard(bobPhone, 'red-packet').getByRole('button', { name: 'Open red packet' }).click();
  await expect(lastCard(bobPhone, 'red-packet')).toHaveAttribute('data-opened', 'true');
  await bobPhone.page.reload();
  await bobPhone.expectConversationOpen('alice', 'Alice');
  await expect(lastCard(bobPhone, 'red-packet')).toHaveAttribute('data-opened', 'true');
  await expect(sent).toHaveAttribute('data-opened', 'false');
  await bobPhone.online();
  await expect(sent).toHaveAttribute('data-opened', 'true', { timeout: 30_000 });
  await expect(sent).toContainText('Opened by Bob');
  await expect(sent).toContainText('$12.00');

  // The laptop, still offline, has not heard of it and opens it too: the server
  // refuses the second write of the same key, and the laptop ends up showing
  // the packet opened (by the phone), with no error left.
  await lastCard(bobLaptop, 'red-packet').getByRole('button', { name: 'Open red packet' }).click();
  await expect(lastCard(bobLaptop, 'red-packet')).toHaveAttribute('data-opened', 'true');
  await bobLaptop.online();
  await expect(bobLaptop.offlineBanner()).toBeHidden();
  await expect(lastCard(bobLaptop, 'red-packet')).toHaveAttribute('data-opened', 'true');
  await expect(lastCard(bobLaptop, 'red-packet').getByRole('alert')).toHaveCount(0, { timeout: 20_000 });
  await expect(lastCard(bobLaptop, 'red-packet').getByRole('button', { name: 'Open red packet' })).toHaveCount(0);
  await expect(sent).toContainText('$12.00');
});
