/**
 * Screenshots of the message actions on a phone (390×844) and a desktop
 * (1280×800), light and dark: a conversation with reactions, a reply quote,
 * an edited message, a recall notice and quotes in both bubbles; the open message menu; the reply
 * bar over the composer: e2e/screenshots/<screen>-<phone|desktop>[-dark].png.
 */
import { expect, type Parley, SIZES, test } from '../fixtures.ts';



async function populate(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob-setup', 'bob');
  const alice = await parley.signedIn('alice-setup', 'alice');
  await bob.startChat('alice', 'Alice Martin');
  await bob.send('Are we still on for Saturday?');
  await alice.openConversation('bob', 'Bob Chen');
  await alice.send('Yes! Meet at 7pm at the station');
  await (await alice.messageMenu('Yes! Meet at 7pm at the station')).getByRole('button', { name: 'Edit' }).click();
  await alice.composer().fill('Yes! Meet at 7:30pm at the station');
  await alice.page.getByRole('button', { name: 'Save' }).click();
  await expect(bob.message('Yes! Meet at 7:30pm at the station')).toContainText('edited');

  await (await bob.messageMenu('Yes! Meet at 7:30pm at the station')).getByRole('button', { name: 'React with 👍' }).click();
  await (await alice.messageMenu('Are we still on for Saturday?')).getByRole('button', { name: 'React with ❤️' }).click();
  await (await bob.messageMenu('Are we still on for Saturday?')).getByRole('button', { name: 'React with ❤️' }).click();
  await (await bob.messageMenu('Are we still on for Saturday?')).getByRole('button', { name: 'React with 😂' }).click();

  await bob.send('oops, wrong chat');
  await (await bob.messageMenu('oops, wrong chat')).getByRole('button', { name: 'Recall' }).click();
  await bob.page.getByRole('dialog', { name: 'Recall this message?' }).getByRole('button', { name: 'Recall' }).click();
  await expect(alice.messages().filter({ hasText: 'Bob Chen recalled a message' })).toBeVisible();

  await (await bob.messageMenu('Yes! Meet at 7:30pm at the station')).getByRole('button', { name: 'Reply' }).click();
  await bob.send('Perfect, I’ll bring the tickets 🎟️');
  await expect(alice.message('Perfect, I’ll bring the tickets 🎟️').getByRole('button', { name: /^Quoted message from You/ })).toBeVisible();
  await expect(alice.message('Are we still on for Saturday?').getByRole('button', { name: '😂 1' })).toBeVisible();
  // A quote in Alice's own bubble too (its contrast on the accent tint is checked with each screenshot).
  await (await alice.messageMenu('Perfect, I’ll bring the tickets 🎟️')).getByRole('button', { name: 'Reply' }).click();
  await alice.send('Great, thank you!');
  await expect(alice.message('Great, thank you!').getByRole('button', { name: /^Quoted message from Bob Chen/ })).toBeVisible();
}

// One conversation, set up once, shot on both sizes in both schemes (each on a device of its own).
test('reactions, replies, edits, recalls and the message menu on a phone and a desktop', async ({ parley }) => {
  test.setTimeout(420_000);
  await populate(parley);
  for (const [kind, viewport] of SIZES) {
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `${kind}-dark` : kind;
      const alice = await parley.signedIn(`alice-${suffix}`, 'alice', { viewport, colorScheme: scheme });
      await alice.openConversation('bob', 'Bob Chen');
      await expect(alice.message('Perfect, I’ll bring the tickets 🎟️').getByRole('button', { name: /^Quoted message from You/ })).toBeVisible();
      await expect(alice.message('Are we still on for Saturday?').getByRole('button', { name: '❤️ 2' })).toBeVisible();
      await alice.shot(`message-actions-${suffix}`);

      await alice.messageMenu('Yes! Meet at 7:30pm at the station');
      await alice.shot(`message-menu-${suffix}`);
      await alice.page.keyboard.press('Escape');

      await (await alice.messageMenu('Perfect, I’ll bring the tickets 🎟️')).getByRole('button', { name: 'More reactions' }).click();
      await expect(alice.page.getByRole('dialog', { name: 'React with any emoji' }).getByRole('button', { name: /^😀/ }).first()).toBeVisible();
      await alice.shot(`message-more-reactions-${suffix}`);
      await alice.page.keyboard.press('Escape');

      await (await alice.messageMenu('Perfect, I’ll bring the tickets 🎟️')).getByRole('button', { name: 'Reply' }).click();
      await alice.composer().fill('See you there!');
      await alice.shot(`message-reply-bar-${suffix}`);
      await alice.composer().press('Escape');
      await alice.composer().fill('');
      // Done with this device: one fewer app syncing in the background while the next one is shot.
      await alice.context.close();
    }
  }
});
