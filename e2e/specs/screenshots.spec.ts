/**
 * Screenshots of the main screens on a phone (390×844) and a desktop
 * (1280×800), light and, for the conversation, dark: e2e/screenshots/<screen>-<phone|desktop>.png.
 * The README shows conversation-desktop.png.
 */
import { DESKTOP, type Device, expect, type Parley, PHONE, test } from '../fixtures.ts';


async function populate(parley: Parley): Promise<{ bob: Device }> {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  await parley.signup('carol', 'Carol Diaz');
  const bob = await parley.signedIn('bob-setup', 'bob');
  const carol = await parley.signedIn('carol-setup', 'carol');
  await carol.startChat('alice', 'Alice Martin');
  await carol.send('Did you get the tickets? 🎟️');
  await bob.startChat('alice', 'Alice Martin');
  await bob.send('Hey Alice! Are we still on for Saturday?');
  await bob.send('I found a great place for brunch 🥞');
  return { bob };
}

for (const [kind, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test(`screens on a ${kind}`, async ({ parley }) => {
    const { bob } = await populate(parley);

    const signIn = await parley.device(`signin-${kind}`, { viewport });
    await signIn.page.goto('/');
    await expect(signIn.page.getByRole('heading', { name: 'Parley' })).toBeVisible();
    await signIn.shot(`signin-${kind}`);

    const alice = await parley.signedIn(`alice-${kind}`, 'alice', { viewport });
    await expect(alice.conversationLink('bob')).toContainText('Bob Chen');
    await expect(alice.conversationLink('carol')).toContainText('Carol Diaz');
    await expect(alice.unreadBadge('bob', 2)).toBeVisible();
    await alice.shot(`list-${kind}`);

    await alice.openConversation('bob', 'Bob Chen');
    // Bob's app is open on his device: online.
    const status = alice.page.getByRole('region', { name: 'Bob Chen' }).locator('.subtitle');
    await expect(status).toHaveText('online');
    await alice.send('Yes! 11 o’clock works for me.');
    await expect(alice.message('Yes! 11 o’clock works for me.')).toHaveAttribute('data-state', /sent|delivered|read/);
    // Emoji alone show larger.
    await alice.send('🥞☕');
    await alice.composer().fill('See you there 😊');
    await alice.shot(`conversation-${kind}`);
    await alice.page.getByRole('button', { name: 'More options' }).click();
    await expect(alice.page.getByRole('menu', { name: 'Options for Bob Chen' })).toBeVisible();
    await alice.shot(`conversation-menu-${kind}`);
    await alice.page.keyboard.press('Escape');

    // Bob closes the app: the dark picture shows when he was last seen.
    await bob.page.close();
    const dark = await parley.signedIn(`alice-dark-${kind}`, 'alice', { viewport, colorScheme: 'dark' });
    await dark.openConversation('bob', 'Bob Chen');
    await expect(dark.page.getByRole('region', { name: 'Bob Chen' }).locator('.subtitle')).toHaveText(/^last seen today at /);
    await expect(dark.messageTexts()).toHaveText([
      'Hey Alice! Are we still on for Saturday?',
      'I found a great place for brunch 🥞',
      'Yes! 11 o’clock works for me.',
      '🥞☕',
    ]);
    await dark.shot(`conversation-dark-${kind}`);
    // On a phone the list (and its Sign out) is one Back away from the open conversation.
    if (kind === 'phone') await dark.page.getByRole('button', { name: 'Back', exact: true }).click();
    await dark.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(dark.page.getByRole('dialog', { name: 'Sign out?' })).toBeVisible();
    await dark.shot(`signout-dark-${kind}`);
  });
}

for (const [kind, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test(`contacts screen on a ${kind}`, async ({ parley }) => {
    const alice = await parley.signup('alice', 'Alice Martin');
    const bob = await parley.signup('bob', 'Bob Chen');
    const carol = await parley.signup('carol', 'Carol Diaz');
    const dan = await parley.signup('dan', 'Dan Okafor');
    await parley.signup('eve', 'Eve Rossi');
    await parley.signup('frank', 'Frank Li');
    // Friends with Bob; Carol and Dan asked Alice; Alice asked Frank; Eve is blocked.
    await parley.userApi(bob, 'POST', '/friends/requests', { to: 'alice', note: 'From the climbing club' });
    await parley.userApi(alice, 'POST', '/friends/requests/bob/accept', {});
    await parley.userApi(carol, 'POST', '/friends/requests', { to: 'alice', note: 'Hi! We met at the conference.' });
    await parley.userApi(dan, 'POST', '/friends/requests', { to: 'alice' });
    await parley.userApi(alice, 'POST', '/friends/requests', { to: 'frank', note: 'Neighbour from 4B' });
    await parley.userApi(alice, 'PUT', '/blocklist/eve', {});

    const device = await parley.signedIn(`alice-${kind}`, 'alice', { viewport });
    await device.page.getByRole('link', { name: 'Contacts' }).click();
    await expect(device.page).toHaveURL(/\/contacts$/);
    const page = device.page;
    await expect(page.getByRole('list', { name: 'Friends' })).toContainText('Bob Chen');
    await expect(page.getByRole('list', { name: 'Friend requests' }).getByRole('listitem')).toHaveCount(2);
    await expect(page.getByRole('list', { name: 'Friend requests' })).toContainText('Carol Diaz');
    await expect(page.getByRole('list', { name: 'Friend requests' })).toContainText('Dan Okafor');
    await expect(page.getByRole('list', { name: 'Sent requests' })).toContainText('Frank Li');
    await expect(page.getByRole('list', { name: 'Blocked' })).toContainText('Eve Rossi');
    await device.shot(`contacts-${kind}`);

    // Accepting a request moves Carol to the friends list, through the inbox document.
    await page.getByRole('button', { name: 'Accept Carol Diaz' }).click();
    await expect(page.getByRole('list', { name: 'Friends' }).getByRole('listitem')).toHaveCount(2);
    await expect(page.getByRole('list', { name: 'Friend requests' }).getByRole('listitem')).toHaveCount(1);
  });
}

for (const [kind, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test(`notifications: the offer, settings and a muted conversation on a ${kind}`, async ({ parley }) => {
    await populate(parley);

    for (const colorScheme of ['light', 'dark'] as const) {
      const suffix = colorScheme === 'dark' ? `dark-${kind}` : kind;
      const alice = await parley.signedIn(`alice-${suffix}`, 'alice', { viewport, colorScheme });
      const offer = alice.page.getByRole('region', { name: 'Get notified of new messages' });
      await expect(offer).toBeVisible();
      await expect(alice.conversationLink('bob')).toContainText('Bob Chen');
      await alice.shot(`notifications-offer-${suffix}`);

      // Headless Chromium never offers installation: a stand-in offer, so that the Install button shows in the picture.
      await alice.page.evaluate(() => window.dispatchEvent(new Event('beforeinstallprompt')));
      await alice.page.getByRole('button', { name: 'Settings' }).click();
      await expect(alice.page.getByRole('dialog', { name: 'Settings' }).getByRole('switch', { name: 'Message previews' })).toBeChecked();
      await expect(alice.page.getByRole('button', { name: 'Install Parley' })).toBeVisible();
      await alice.shot(`settings-${suffix}`);
      // Privacy: read receipts and who sees when Alice is online.
      const privacy = alice.page.getByRole('dialog', { name: 'Settings' }).getByRole('heading', { name: 'Privacy' });
      await privacy.scrollIntoViewIfNeeded();
      await expect(alice.page.getByRole('switch', { name: 'Read receipts' })).toHaveAttribute('aria-checked', 'true');
      await expect(alice.page.getByRole('radio', { name: 'Everyone' })).toBeChecked();
      await alice.shot(`settings-privacy-${suffix}`);
      if (colorScheme === 'light') {
        // The theme: a choice of dark can go back to following the system, and that choice is kept.
        const settings = alice.page.getByRole('dialog', { name: 'Settings' });
        const html = alice.page.locator('html');
        await settings.getByRole('radio', { name: 'Dark' }).check();
        await expect(html).toHaveAttribute('data-theme', 'dark');
        await settings.getByRole('radio', { name: 'System' }).check();
        await expect(html).toHaveAttribute('data-theme', 'light');
        await alice.page.emulateMedia({ colorScheme: 'dark' });
        await expect(html).toHaveAttribute('data-theme', 'dark');
        await alice.page.reload();
        await expect(html).toHaveAttribute('data-theme', 'dark');
        await alice.page.emulateMedia({ colorScheme: 'light' });
        await expect(html).toHaveAttribute('data-theme', 'light');
      } else await alice.page.keyboard.press('Escape');

      await offer.getByRole('button', { name: 'Not now' }).click();
      await alice.openConversation('carol', 'Carol Diaz');
      // Muted from the conversation's menu (the setting syncs: the dark run's device may find it muted already).
      const mutedIcon = alice.page.getByRole('img', { name: 'Muted' });
      if ((await mutedIcon.count()) === 0) {
        await alice.page.getByRole('button', { name: 'More options' }).click();
        await alice.page.getByRole('menuitemcheckbox', { name: 'Mute notifications' }).click();
      }
      await expect(mutedIcon).toBeVisible();
      await expect(alice.conversationLink('carol').getByText('Muted', { exact: true })).toHaveCount(1);
      if (kind === 'phone') await alice.page.getByRole('button', { name: 'Back' }).click();
      await alice.shot(`muted-${suffix}`);
    }
  });
}
