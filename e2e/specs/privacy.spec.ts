/**
 * Privacy and presence as users meet them, two users on two devices each:
 * read receipts off (on one device) hide read ticks both ways on every
 * device, and on again bring them back; "online" means a device holds the
 * app open, "last seen" follows when the last one closes, and "Nobody" hides
 * both. The server's side of each rule: sync-server/test/privacy.test.ts.
 */
import { expect, test, type Device } from '../fixtures.ts';

/** The accessible label of a message's state icon (StateIcon.svelte: STATE_LABELS). */
const stateLabel = (device: Device, text: string) => device.message(text).locator('.state-icon');
const subtitle = (device: Device, name: string) => device.page.getByRole('region', { name }).locator('.subtitle');

async function openSettings(device: Device) {
  await device.page.getByRole('button', { name: 'Settings' }).click();
  return device.page.getByRole('dialog', { name: 'Settings' });
}

test('read receipts off on one device hide read ticks both ways on every device; on again brings them back', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alicePhone = await parley.signedIn('alice-phone', 'alice');
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice');
  const bobPhone = await parley.signedIn('bob-phone', 'bob');
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob');

  // With receipts on, a read shows as read.
  await alicePhone.startChat('bob', 'Bob');
  await alicePhone.send('before');
  await bobPhone.openConversation('alice', 'Alice');
  await expect(stateLabel(alicePhone, 'before')).toHaveText('Read');
  await bobPhone.page.goBack();

  // Alice turns them off on her laptop.
  const settings = await openSettings(aliceLaptop);
  const receipts = settings.getByRole('switch', { name: 'Read receipts' });
  await expect(receipts).toHaveAttribute('aria-checked', 'true');
  await receipts.click();
  await expect(receipts).toHaveAttribute('aria-checked', 'false');
  await settings.getByRole('button', { name: 'Done' }).click();

  // Her phone hears it and shows no read tick any more, even on what was read before.
  await expect(stateLabel(alicePhone, 'before')).toHaveText('Delivered');
  const phoneSettings = await openSettings(alicePhone);
  await expect(phoneSettings.getByRole('switch', { name: 'Read receipts' })).toHaveAttribute('aria-checked', 'false');
  await phoneSettings.getByRole('button', { name: 'Done' }).click();

  // Bob reads her new message: she sees it delivered, never read.
  await alicePhone.send('after');
  await bobLaptop.openConversation('alice', 'Alice');
  await expect(bobLaptop.message('after')).toBeVisible();
  // He answers after reading: by the time his answer reaches her, his reading would have too.
  await bobLaptop.send('got it');
  await expect(alicePhone.message('got it')).toBeVisible();
  await expect(stateLabel(alicePhone, 'after')).toHaveText('Delivered');

  // She reads his answer: neither of his devices shows it read.
  await expect(stateLabel(bobLaptop, 'got it')).toHaveText('Delivered');
  await bobPhone.openConversation('alice', 'Alice');
  await expect(stateLabel(bobPhone, 'got it')).toHaveText('Delivered');
  await alicePhone.send('still here');
  await expect(bobPhone.message('still here')).toBeVisible();
  await expect(stateLabel(bobPhone, 'got it')).toHaveText('Delivered');

  // On again, from her phone: her reading reaches him, and his hers.
  const again = await openSettings(alicePhone);
  await again.getByRole('switch', { name: 'Read receipts' }).click();
  await expect(again.getByRole('switch', { name: 'Read receipts' })).toHaveAttribute('aria-checked', 'true');
  await again.getByRole('button', { name: 'Done' }).click();
  await expect(stateLabel(bobPhone, 'got it')).toHaveText('Read');
  await expect(stateLabel(bobLaptop, 'got it')).toHaveText('Read');
  await expect(stateLabel(alicePhone, 'still here')).toHaveText('Read');
  await aliceLaptop.openConversation('bob', 'Bob');
  await expect(stateLabel(aliceLaptop, 'after')).toHaveText('Read');
});

test('online while any device holds the app open, last seen when the last closes, and nothing for whom the setting hides it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice-phone', 'alice');
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice');
  const bobPhone = await parley.signedIn('bob-phone', 'bob');
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob');

  await alice.startChat('bob', 'Bob');
  await alice.send('Are you around?');
  await aliceLaptop.openConversation('bob', 'Bob');
  const status = subtitle(alice, 'Bob');
  const laptopStatus = subtitle(aliceLaptop, 'Bob');
  // Bob's devices hold the app open on their conversation lists: online, without opening this chat.
  await expect(status).toHaveText('online');
  await bobPhone.page.close();
  await expect(status).toHaveText('online');
  await bobLaptop.page.close();
  await expect(status).toHaveText(/^last seen today at /);
  await expect(laptopStatus).toHaveText(/^last seen today at /);

  // Back, and hiding it from everyone: Alice sees only his id.
  const bob = await parley.signedIn('bob-again', 'bob');
  await expect(status).toHaveText('online');
  const settings = await openSettings(bob);
  await settings.getByRole('radio', { name: 'Nobody' }).check();
  await expect(status).toHaveText('bob');
  await expect(laptopStatus).toHaveText('bob');
  // Contacts: Alice is none of his.
  await settings.getByRole('radio', { name: 'My contacts' }).check();
  await expect(settings.getByRole('radio', { name: 'My contacts' })).toBeChecked();
  await expect(status).toHaveText('bob');
  await settings.getByRole('radio', { name: 'Everyone' }).check();
  await expect(status).toHaveText('online');
  await expect(laptopStatus).toHaveText('online');
});
