/**
 * Screenshots of stickers and custom messages on a phone (390×844) and a
 * desktop (1280×800), light and dark: the emoji picker (emoji and stickers
 * tabs) and a conversation with a sticker, red packets (unopened and opened)
 * and rock, paper, scissors rounds: e2e/screenshots/<screen>-<phone|desktop>[-dark].png.
 */
import type { Locator } from '@playwright/test';
import { type Device, expect, type Parley, SIZES, test } from '../fixtures.ts';


function lastCard(device: Device, kind: string): Locator {
  return device.messages().last().locator(`[data-custom="${kind}"]`);
}

async function game(device: Device, label: string): Promise<Locator> {
  await device.page.getByRole('button', { name: 'Games and gifts' }).click();
  await device.page.getByRole('group', { name: 'Games and gifts' }).getByRole('button', { name: label }).click();
  return device.page.getByRole('dialog', { name: label });
}

async function redPacket(device: Device, amount: string, greeting: string): Promise<void> {
  const dialog = await game(device, 'Red packet');
  await dialog.getByLabel('Amount').fill(amount);
  await dialog.getByLabel('Greeting').fill(greeting);
  await dialog.getByRole('button', { name: 'Send red packet' }).click();
  await expect(lastCard(device, 'red-packet')).toContainText(greeting);
}

async function challenge(device: Device, move: string): Promise<void> {
  const dialog = await game(device, 'Rock, paper, scissors');
  await dialog.getByRole('button', { name: move }).click();
  await expect(lastCard(device, 'rps')).toHaveAttribute('data-phase', 'waiting');
}

async function sticker(device: Device, alt: string): Promise<void> {
  await device.page.getByRole('button', { name: 'Emoji', exact: true }).click();
  await device.page.getByRole('tab', { name: 'Stickers' }).click();
  await device.page.getByRole('button', { name: `Send sticker: ${alt}` }).click();
  await expect(device.messages().last().getByRole('img', { name: alt })).toBeVisible();
}

/** Bob and Alice trade a greeting, stickers, red packets and two rounds. */
async function populate(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob-setup', 'bob');
  const alice = await parley.signedIn('alice-setup', 'alice');
  await bob.startChat('alice', 'Alice Martin');
  await bob.send('Happy birthday Alice! 🎂');
  await alice.openConversation('bob', 'Bob Chen');
  await sticker(alice, 'Thank you');
  await redPacket(alice, '5', 'Coffee is on me ☕');
  await challenge(alice, 'Rock');
  await bob.messages().filter({ hasText: 'Coffee is on me' }).getByRole('button', { name: 'Open red packet' }).click();
  await expect(alice.messages().filter({ hasText: 'Coffee is on me' }).locator('[data-custom="red-packet"]')).toHaveAttribute('data-opened', 'true');
  await lastCard(bob, 'rps').getByRole('group', { name: 'Your move' }).getByRole('button', { name: 'Scissors' }).click();
  await expect(lastCard(alice, 'rps')).toHaveAttribute('data-phase', 'result');
  // Left for Alice: a red packet to open and a round to play.
  await redPacket(bob, '8.88', 'Happy birthday!');
  await challenge(bob, 'Paper');
  await expect(lastCard(alice, 'rps')).toHaveAttribute('data-phase', 'your-turn');
}

// One conversation, set up once, shot on both sizes in both schemes (each on a device of its own).
test('stickers and custom messages on a phone and a desktop', async ({ parley }) => {
  // Two users' setup and eight devices' worth of screens.
  test.setTimeout(420_000);
  await populate(parley);
  for (const [kind, viewport] of SIZES) {
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `${kind}-dark` : kind;
      const alice = await parley.signedIn(`alice-${suffix}`, 'alice', { viewport, colorScheme: scheme });
      await alice.openConversation('bob', 'Bob Chen');
      await expect(lastCard(alice, 'rps')).toHaveAttribute('data-phase', 'your-turn');
      await expect(alice.messages().filter({ has: alice.page.locator('[data-custom="red-packet"][data-opened="true"]') })).toHaveCount(1);
      await alice.shot(`custom-messages-${suffix}`);

      await alice.composer().fill('Thanks ');
      await alice.page.getByRole('button', { name: 'Emoji', exact: true }).click();
      await expect(alice.page.getByRole('button', { name: /^😀 grinning face$/u })).toBeVisible();
      await alice.shot(`picker-emoji-${suffix}`);
      await alice.page.getByRole('tab', { name: 'Stickers' }).click();
      await expect(alice.page.getByRole('button', { name: 'Send sticker: Hello!' })).toBeVisible();
      await alice.shot(`picker-stickers-${suffix}`);
      await alice.page.keyboard.press('Escape');

      const dialog = await game(alice, 'Red packet');
      await dialog.getByLabel('Amount').fill('6.66');
      await dialog.getByLabel('Greeting').fill('Good luck tomorrow!');
      await alice.shot(`red-packet-dialog-${suffix}`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      // Done with this device: one fewer app syncing in the background while the next one is shot.
      await alice.context.close();
    }
  }
});
