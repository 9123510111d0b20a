/**
 * Screenshots of the message actions of issue 17 on a phone (390×844) and a
 * desktop (1280×800), light and dark: the message menu with Forward, Star,
 * Pin, Info and Delete for me; the forward picker; message info; the pinned
 * message bar; the Starred view: e2e/screenshots/<screen>-<phone|desktop>[-dark].png.
 */
import { expect, type Parley, SIZES, test } from '../fixtures.ts';

async function populate(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  await parley.signup('carol', 'Carol Diaz');
  await parley.signup('dan', 'Dan Okafor');
  const alice = await parley.signedIn('alice-setup', 'alice');
  const bob = await parley.signedIn('bob-setup', 'bob');
  for (const [peer, name, text] of [
    ['carol', 'Carol Diaz', 'See you at the climbing gym'],
    ['dan', 'Dan Okafor', 'Thanks for the book!'],
  ] as const) {
    await alice.startChat(peer, name);
    await alice.send(text);
  }
  await bob.startChat('alice', 'Alice Martin');
  await bob.send('Train tickets are booked 🎟️');
  await bob.send('Platform 4, coach C, seats 31 and 32');
  await alice.openConversation('bob', 'Bob Chen');
  await alice.send('Perfect, thank you!');
  await alice.send('I’ll bring snacks for the ride');
  await expect(alice.message('I’ll bring snacks for the ride')).toHaveAttribute('data-state', 'read');
  await (await bob.messageMenu('Platform 4, coach C, seats 31 and 32')).getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(alice.page.getByTestId('pinned-bar')).toContainText('Platform 4');
  await (await alice.messageMenu('Platform 4, coach C, seats 31 and 32')).getByRole('button', { name: 'Star', exact: true }).click();
  await (await alice.messageMenu('Train tickets are booked 🎟️')).getByRole('button', { name: 'Star', exact: true }).click();
  await expect(alice.message('Train tickets are booked 🎟️')).toHaveAttribute('data-starred', 'true');
  await alice.context.close();
  await bob.context.close();
}

test('the message menu with forward, star, pin, info and delete for me; the forward picker; message info; the pinned bar; the Starred view', async ({ parley }) => {
  test.setTimeout(480_000);
  await populate(parley);
  for (const [kind, viewport] of SIZES) {
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `${kind}-dark` : kind;
      const alice = await parley.signedIn(`alice-${suffix}`, 'alice', { viewport, colorScheme: scheme });
      await alice.openConversation('bob', 'Bob Chen');
      await expect(alice.page.getByTestId('pinned-bar')).toContainText('Platform 4');
      await expect(alice.message('Train tickets are booked 🎟️')).toHaveAttribute('data-starred', 'true');
      await alice.shot(`message-pinned-bar-${suffix}`);

      await alice.messageMenu('I’ll bring snacks for the ride');
      await alice.shot(`message-menu-more-${suffix}`);
      await alice.page.keyboard.press('Escape');

      await (await alice.messageMenu('I’ll bring snacks for the ride')).getByRole('button', { name: 'Info' }).click();
      const info = alice.page.getByRole('dialog', { name: 'Message info' });
      await expect(info.getByTestId('info-read')).toHaveText(/Today, /);
      await alice.shot(`message-info-${suffix}`);
      await alice.page.keyboard.press('Escape');
      await expect(info).toBeHidden();

      await (await alice.messageMenu('Platform 4, coach C, seats 31 and 32')).getByRole('button', { name: 'Forward' }).click();
      const picker = alice.page.getByRole('dialog', { name: 'Forward to…' });
      await expect(picker.getByRole('checkbox')).toHaveCount(3);
      await picker.getByRole('checkbox', { name: /Carol Diaz/ }).check();
      await alice.shot(`message-forward-${suffix}`);
      await alice.page.keyboard.press('Escape');
      await expect(picker).toBeHidden();

      // On a phone the list (and its header) is behind the conversation.
      if (kind === 'phone') await alice.page.getByRole('button', { name: 'Back' }).click();
      await alice.page.getByRole('link', { name: 'Starred messages' }).click();
      await expect(alice.page.getByTestId('starred-item')).toHaveCount(2);
      await alice.shot(`message-starred-${suffix}`);
      await alice.context.close();
    }
  }
});
