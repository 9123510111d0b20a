/**
 * Screenshots of the profile (issue 17), on a phone (390×844) and a desktop
 * (1280×800), light and dark: e2e/screenshots/profile-settings-*, Settings →
 * Profile with a picture and an about line; profile-crop-*, the square crop
 * of a chosen picture; profile-devices-*, the signed-in devices;
 * peer-profile-*, the peer's profile panel from the conversation header.
 */
import { type Device, expect, type Parley, SIZES, test } from '../fixtures.ts';
import { canvasPicture } from '../media.ts';

async function populate(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice Martin');
  const bob = await parley.signup('bob', 'Bob Chen');
  await parley.userApi(bob, 'PATCH', '/me', { about: 'Climbing on weekends, coffee on weekdays ☕' });
}

async function dismissOffer(device: Device): Promise<void> {
  const notNow = device.page.getByRole('button', { name: 'Not now' });
  if (await notNow.isVisible()) await notNow.click();
}

/** Chooses a picture in Settings (open) and opens the crop dialog, zoomed in a little. */
async function chooseAndCrop(device: Device) {
  const picture = await canvasPicture(device, 640, 480, 'me.png');
  const [chooser] = await Promise.all([device.page.waitForEvent('filechooser'), device.page.getByRole('button', { name: /^(Choose|Change) picture$/ }).click()]);
  await chooser.setFiles(picture);
  const crop = device.page.getByRole('dialog', { name: 'Crop your picture' });
  await expect(crop).toBeVisible();
  await crop.getByRole('slider', { name: 'Zoom' }).fill('1.5');
  return crop;
}

for (const [kind, viewport] of SIZES) {
  test(`the profile settings, the crop dialog, the devices and a peer's profile, on a ${kind}, light and dark`, async ({ parley }) => {
    await populate(parley);
    // Bob on another device: a second row in the list of devices.
    await parley.signedIn(`bob-other-${kind}`, 'bob');
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `-dark-${kind}` : `-${kind}`;
      const bob = await parley.signedIn(`bob-${kind}-${scheme}`, 'bob', { viewport, colorScheme: scheme });
      await dismissOffer(bob);
      await bob.page.getByRole('button', { name: 'Settings' }).click();
      const settings = bob.page.getByRole('dialog', { name: 'Settings' });
      await expect(settings.getByLabel('About')).toHaveValue(/Climbing on weekends/);

      const crop = await chooseAndCrop(bob);
      await bob.shot(`profile-crop${suffix}`);
      await crop.getByRole('button', { name: 'Use picture' }).click();
      await expect(crop).toBeHidden();
      await expect(settings.locator('.profile-picture img.avatar')).toHaveAttribute('src', /^\/api\/v1\/media\//);
      await bob.shot(`profile-settings${suffix}`);

      await settings.getByRole('button', { name: 'Signed-in devices' }).click();
      const devices = bob.page.getByRole('dialog', { name: 'Signed-in devices' });
      await expect(devices.getByRole('listitem').first()).toContainText('This device');
      await bob.shot(`profile-devices${suffix}`);
      await bob.page.keyboard.press('Escape');
      await expect(devices).toBeHidden();
      await bob.page.keyboard.press('Escape');
      await expect(settings).toBeHidden();

      const alice = await parley.signedIn(`alice-${kind}-${scheme}`, 'alice', { viewport, colorScheme: scheme });
      await dismissOffer(alice);
      await alice.startChat('bob', 'Bob Chen');
      await alice.page.getByRole('button', { name: 'Profile of Bob Chen' }).click();
      const panel = alice.page.getByRole('dialog', { name: 'Bob Chen' });
      await expect(panel).toContainText('Climbing on weekends');
      await expect(panel.locator('img.avatar')).toHaveAttribute('src', /^\/api\/v1\/media\//);
      await alice.shot(`peer-profile${suffix}`);
    }
  });
}
