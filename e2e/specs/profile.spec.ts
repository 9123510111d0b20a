/**
 * A real profile (issue 17), two users on two devices each: a picture
 * chosen, cropped square and uploaded on one device reaches the peer's two
 * devices and the user's other one (as Parley's own media, 512×512); the
 * "about" line reaches the peer's profile panel; a password change signs
 * the other devices out; the list of signed-in devices signs one out.
 */
import type { Session, SessionInfo } from '@parley/protocol';
import { expect, PASSWORD, test, type Device, type Parley } from '../fixtures.ts';
import { canvasPicture } from '../media.ts';

const AVATAR_SRC = /^\/api\/v1\/media\/[0-9a-f]{64}$/;

async function openSettings(device: Device) {
  await device.page.getByRole('button', { name: 'Settings' }).click();
  const settings = device.page.getByRole('dialog', { name: 'Settings' });
  await expect(settings).toBeVisible();
  return settings;
}

/** The natural size of a loaded <img>, once it has loaded. */
async function naturalSize(img: ReturnType<Device['page']['locator']>): Promise<[number, number]> {
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
  return img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight] as [number, number]);
}

async function sessionsOf(parley: Parley, session: Session): Promise<SessionInfo[]> {
  return ((await parley.userApi(session, 'GET', '/me/sessions')) as { sessions: SessionInfo[] }).sessions;
}

/** Alice and Bob, each on two devices, with a conversation between them. */
async function fourDevices(parley: Parley) {
  const aliceSetup = await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice1 = await parley.signedIn('alice-1', 'alice');
  await alice1.startChat('bob', 'Bob');
  await alice1.send('hello');
  await expect(alice1.message('hello')).toHaveAttribute('data-state', /sent|delivered|read/);
  const alice2 = await parley.signedIn('alice-2', 'alice');
  const bob1 = await parley.signedIn('bob-1', 'bob');
  const bob2 = await parley.signedIn('bob-2', 'bob');
  for (const bob of [bob1, bob2]) await expect(bob.conversationLink('alice')).toContainText('Alice');
  return { aliceSetup, alice1, alice2, bob1, bob2 };
}

test('a picture cropped on one device is the avatar on the peer’s two devices and the user’s other one, 512×512 from Parley’s media', async ({ parley }) => {
  const { alice1, alice2, bob1, bob2 } = await fourDevices(parley);
  const picture = await canvasPicture(alice1, 640, 480, 'me.png');

  const settings = await openSettings(alice1);
  // Chosen from the keyboard: the button opens the file chooser.
  const choose = settings.getByRole('button', { name: 'Choose picture' });
  await choose.focus();
  const [chooser] = await Promise.all([alice1.page.waitForEvent('filechooser'), alice1.page.keyboard.press('Enter')]);
  await chooser.setFiles(picture);

  const crop = alice1.page.getByRole('dialog', { name: 'Crop your picture' });
  await expect(crop).toBeVisible();
  const area = crop.getByRole('application', { name: /Picture to crop/ });
  const zoom = crop.getByRole('slider', { name: 'Zoom' });
  await expect(zoom).toHaveValue('1');
  // Zoom with the keys and the slider, move with the keys and by dragging.
  await area.focus();
  await alice1.page.keyboard.press('+');
  await expect(zoom).toHaveValue('1.25');
  await zoom.fill('2');
  await area.focus();
  await alice1.page.keyboard.press('ArrowLeft');
  const box = await area.boundingBox();
  if (box === null) throw new Error('the crop area has no box');
  await alice1.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await alice1.page.mouse.down();
  await alice1.page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 30, { steps: 4 });
  await alice1.page.mouse.up();
  await crop.getByRole('button', { name: 'Use picture' }).click();
  await expect(crop).toBeHidden();
  await expect(alice1.page.getByRole('alert').filter({ hasText: 'Profile picture saved.' })).toBeVisible();

  const own = settings.locator('.profile-picture img.avatar');
  await expect(own).toHaveAttribute('src', AVATAR_SRC);
  const src = (await own.getAttribute('src')) ?? '';
  expect(await naturalSize(own)).toEqual([512, 512]);
  const served = await alice1.page.evaluate(async (url) => (await fetch(url)).headers.get('content-type'), src);
  expect(served).toBe('image/webp');

  // Bob's two devices: the conversation list, and the conversation's header.
  for (const bob of [bob1, bob2]) {
    const listAvatar = bob.conversationLink('alice').locator('img.avatar');
    await expect(listAvatar).toHaveAttribute('src', src);
    expect(await naturalSize(listAvatar)).toEqual([512, 512]);
  }
  await bob1.openConversation('alice', 'Alice');
  const header = bob1.page.getByRole('button', { name: 'Profile of Alice' }).locator('img.avatar');
  await expect(header).toHaveAttribute('src', src);

  // Alice's other device: her profile in Settings.
  const other = await openSettings(alice2);
  await expect(other.locator('.profile-picture img.avatar')).toHaveAttribute('src', src);

  // Removed: initials again, for her and for Bob.
  await settings.getByRole('button', { name: 'Remove picture' }).click();
  await expect(settings.locator('.profile-picture img.avatar')).toHaveCount(0);
  await expect(bob2.conversationLink('alice').locator('img.avatar')).toHaveCount(0);
});

test('the about line reaches the peer’s profile panel', async ({ parley }) => {
  const { alice1, bob1, bob2 } = await fourDevices(parley);
  const settings = await openSettings(alice1);
  await settings.getByLabel('About').fill('Out climbing \u200Buntil Sunday');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(alice1.page.getByRole('alert').filter({ hasText: 'About line saved.' })).toBeVisible();
  await expect(settings.getByLabel('About')).toHaveValue('Out climbing until Sunday');

  // From the header's avatar on one device, from the menu on the other; Escape closes it.
  await bob1.openConversation('alice', 'Alice');
  await bob1.page.getByRole('button', { name: 'Profile of Alice' }).click();
  const panel = bob1.page.getByRole('dialog', { name: 'Alice' });
  await expect(panel).toContainText('Out climbing until Sunday');
  await expect(panel).toContainText('@alice');
  await bob1.page.keyboard.press('Escape');
  await expect(panel).toBeHidden();

  await bob2.openConversation('alice', 'Alice');
  await bob2.page.getByRole('button', { name: 'More options' }).click();
  await bob2.page.getByRole('menuitem', { name: 'View profile' }).click();
  await expect(bob2.page.getByRole('dialog', { name: 'Alice' })).toContainText('Out climbing until Sunday');
});

test('a password change shows its refusals inline and signs out the user’s other devices', async ({ parley }) => {
  const { aliceSetup, alice1, alice2 } = await fourDevices(parley);
  const settings = await openSettings(alice1);
  await settings.getByRole('button', { name: 'Change password' }).click();
  const form = settings.getByRole('form', { name: 'Change password' });
  const current = form.getByLabel('Current password');
  const fresh = form.getByLabel('New password', { exact: true });
  const confirm = form.getByLabel('Confirm new password');
  const submit = form.getByRole('button', { name: 'Update password' });

  await current.fill('not my password');
  await fresh.fill('a much better secret');
  await confirm.fill('a much better secret');
  await submit.click();
  await expect(form.getByRole('alert')).toHaveText('Your current password is not right.');
  await expect(current).toHaveAttribute('aria-invalid', 'true');

  await current.fill(PASSWORD);
  await fresh.fill('password');
  await confirm.fill('password');
  await submit.click();
  await expect(form.getByRole('alert')).toContainText('not a commonly used password');
  await expect(fresh).toHaveAttribute('aria-invalid', 'true');

  await fresh.fill('a much better secret');
  await confirm.fill('a much better secreT');
  await submit.click();
  await expect(form.getByRole('alert')).toHaveText('The two new passwords are not the same.');

  await confirm.fill('a much better secret');
  await submit.click();
  // The setup session and alice-2.
  await expect(settings.getByRole('status').filter({ hasText: 'Password changed.' })).toHaveText('Password changed. 2 other devices were signed out.');
  await expect(alice2.page.getByText('This device was signed out. Sign in again.')).toBeVisible();
  await expect(alice2.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(parley.userApi(aliceSetup, 'GET', '/me/sessions')).rejects.toThrow(/401/);
  // This device stays signed in; the new password signs in the other one.
  await expect(alice1.conversationList()).toBeVisible();
  await alice2.signIn('alice', 'a much better secret');
});

test('the list of signed-in devices shows this one and signs another out', async ({ parley }) => {
  const { aliceSetup, alice1, alice2 } = await fourDevices(parley);
  const settings = await openSettings(alice1);
  await settings.getByRole('button', { name: 'Signed-in devices' }).click();
  const dialog = alice1.page.getByRole('dialog', { name: 'Signed-in devices' });
  const rows = dialog.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem');
  // alice-1 (this device, first), alice-2 (used last), the setup sign-up.
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText('This device');
  await expect(rows.first().getByRole('button', { name: /^Sign out/ })).toHaveCount(0);
  await expect(rows.nth(1)).toContainText('Chrome on Linux');

  await rows.nth(1).getByRole('button', { name: /^Sign out/ }).click();
  const confirm = alice1.page.getByRole('dialog', { name: /^Sign out Chrome on Linux\?/ });
  await expect(confirm).toBeVisible();
  // Cancel first: nothing happens.
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(rows).toHaveCount(3);
  await rows.nth(1).getByRole('button', { name: /^Sign out/ }).click();
  await confirm.getByRole('button', { name: 'Sign out' }).click();

  await expect(alice2.page.getByText('This device was signed out. Sign in again.')).toBeVisible();
  await expect(rows).toHaveCount(2);
  // Only that one: this device and the setup session are still signed in.
  expect((await sessionsOf(parley, aliceSetup)).length).toBe(2);
  await expect(alice1.conversationList()).toBeVisible();
});
