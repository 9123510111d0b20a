/**
 * Screenshots of Settings → Account, on a phone (390×844) and a desktop
 * (1280×800), light and dark: e2e/screenshots/account-settings-*, the
 * section with "Download my data" and "Delete account"; delete-account-*,
 * the confirmation that says what is erased and asks for the password.
 */
import { type Device, expect, SIZES, test } from '../fixtures.ts';

async function dismissOffer(device: Device): Promise<void> {
  const notNow = device.page.getByRole('button', { name: 'Not now' });
  if (await notNow.isVisible()) await notNow.click();
}

for (const [kind, viewport] of SIZES) {
  test(`Settings → Account and the delete confirmation, on a ${kind}, light and dark`, async ({ parley }) => {
    await parley.signup('alice', 'Alice Martin');
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `-dark-${kind}` : `-${kind}`;
      const alice = await parley.signedIn(`alice-${kind}-${scheme}`, 'alice', { viewport, colorScheme: scheme });
      await dismissOffer(alice);
      await alice.page.getByRole('button', { name: 'Settings' }).click();
      const settings = alice.page.getByRole('dialog', { name: 'Settings' });
      const heading = settings.getByRole('heading', { name: 'Account' });
      await heading.scrollIntoViewIfNeeded();
      await expect(settings.getByRole('button', { name: 'Delete…' })).toBeVisible();
      await settings.getByRole('button', { name: 'Delete…' }).scrollIntoViewIfNeeded();
      await alice.shot(`account-settings${suffix}`);

      await settings.getByRole('button', { name: 'Delete…' }).click();
      const dialog = alice.page.getByRole('dialog', { name: 'Delete your account?' });
      await expect(dialog.getByLabel('Your password')).toBeFocused();
      await alice.shot(`delete-account${suffix}`);
      await alice.page.keyboard.press('Escape');
      await expect(dialog).toBeHidden();
    }
  });
}
