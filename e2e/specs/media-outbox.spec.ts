/**
 * Media in the outbox: a photo sent offline shows at once from the device's
 * own copy, waits (through a reload) with Cancel, and reaches the peer once
 * when the network returns; an upload the server refuses shows failed with
 * Retry, and Retry sends it.
 */
import type { Locator } from '@playwright/test';
import { expect, test } from '../fixtures.ts';
import { attachAndSend, canvasPicture, messagesOfType } from '../media.ts';

async function expectImageLoaded(img: Locator, naturalWidth: number): Promise<void> {
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)), { message: 'the picture loads', timeout: 30_000 }).toBe(naturalWidth);
}

test('a photo sent offline shows at once, survives a reload and reaches Bob once when back online', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const bob = await parley.signedIn('bob', 'bob', { controllableNetwork: true });
  const alice = await parley.signedIn('alice', 'alice', { controllableNetwork: true });
  await bob.waitForServiceWorker();

  await alice.startChat('bob', 'Bob');
  await alice.send('going into the tunnel');
  await alice.waitForServiceWorker();
  await alice.expectConversationOpen('bob', 'Bob');
  const keep = await canvasPicture(alice, 800, 600, 'tunnel.png');
  const drop = await canvasPicture(alice, 300, 200, 'never-mind.png');

  await alice.offline();
  await expect(alice.offlineBanner()).toBeVisible();
  await attachAndSend(alice, 'Photo', keep);
  const photos = messagesOfType(alice, 'image');
  await expect(photos).toHaveCount(1);
  const photo = photos.first();
  await expect(photo).toHaveAttribute('data-state', 'pending');
  await expect(photo.getByRole('status')).toHaveText('Waiting to upload');
  await expect(photo.getByRole('progressbar', { name: 'Upload progress' })).toBeVisible();
  // Shown from the device's own copy: its thumbnail is made on the device.
  await expectImageLoaded(photo.locator('img'), 320);

  // A second one, cancelled before it ever leaves.
  await attachAndSend(alice, 'Photo', drop);
  await expect(photos).toHaveCount(2);
  await photos.nth(1).getByRole('button', { name: 'Cancel' }).click();
  await expect(photos).toHaveCount(1);

  // Still offline, the page reloads (from the service worker): the photo and its bytes are still there.
  await alice.page.reload();
  await alice.expectConversationOpen('bob', 'Bob');
  await expect(alice.offlineBanner()).toBeVisible();
  await expect(photos).toHaveCount(1);
  await expect(photo).toHaveAttribute('data-state', 'pending');
  await expectImageLoaded(photo.locator('img'), 320);

  await alice.online();
  await expect(alice.offlineBanner()).toBeHidden();
  await expect(photo).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });
  await expect(photo.getByRole('status')).toBeHidden();

  await bob.openConversation('alice', 'Alice');
  const received = messagesOfType(bob, 'image');
  await expect(received).toHaveCount(1);
  await expectImageLoaded(received.getByRole('button', { name: 'Open photo, 800 × 600' }).locator('img'), 320);
  await expect(photo).toHaveAttribute('data-state', 'read');

  const lightbox = bob.page.getByRole('dialog', { name: 'Photo' });
  await received.getByRole('button', { name: 'Open photo, 800 × 600' }).click();
  await expectImageLoaded(lightbox.getByRole('img'), 800);
  await lightbox.getByRole('button', { name: 'Close' }).click();

  // Once, also after a reload; and what Bob has seen stays viewable offline (the service worker's media cache).
  await bob.offline();
  await bob.page.reload();
  await bob.expectConversationOpen('alice', 'Alice');
  await expect(bob.offlineBanner()).toBeVisible();
  await expect(bob.messages()).toHaveCount(2);
  await expect(received).toHaveCount(1);
  await expectImageLoaded(received.locator('img'), 320);
  await received.getByRole('button', { name: 'Open photo, 800 × 600' }).click();
  await expectImageLoaded(lightbox.getByRole('img'), 800);
  await lightbox.getByRole('button', { name: 'Close' }).click();
  await bob.online();

  // Alice's copy now comes from the server (or the cache), no longer from the device's own.
  await alice.page.reload();
  await alice.expectConversationOpen('bob', 'Bob');
  await expect(photos).toHaveCount(1);
  await expectImageLoaded(photo.locator('img'), 320);
});

test('an upload the server refuses shows failed with Retry, and Retry sends it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.startChat('bob', 'Bob');

  // The server turns the upload down once (as it would a file over its limit).
  await alice.page.route('**/api/v1/uploads', (route) =>
    route.fulfill({ status: 413, contentType: 'application/json', body: JSON.stringify({ error: { code: 'media-too-large', message: 'too large' } }) }),
  );
  await attachAndSend(alice, 'Photo', await canvasPicture(alice, 480, 360, 'retry.png'));
  const photo = messagesOfType(alice, 'image');
  await expect(photo).toHaveAttribute('data-state', 'failed');
  await expect(photo.getByRole('button', { name: 'Retry' })).toBeVisible();
  await alice.page.unroute('**/api/v1/uploads');

  await photo.getByRole('button', { name: 'Retry' }).click();
  await expect(photo).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });
  await bob.openConversation('alice', 'Alice');
  await expect(messagesOfType(bob, 'image')).toHaveCount(1);
  await expectImageLoaded(messagesOfType(bob, 'image').locator('img'), 320);
});
