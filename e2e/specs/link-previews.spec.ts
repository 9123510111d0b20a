/**
 * Link previews as users meet them: Alice writes a link, a card of the page
 * shows over the composer (the server fetched it), she sends it, and Bob's
 * two devices show the card with its picture served by Parley: no device
 * asks the linked site for anything. She can remove a card before sending,
 * and turn previews off in Settings. A real web server on 127.0.0.1 plays
 * the site (let in by PARLEY_LINK_PREVIEW_ALLOW); the server's rules:
 * sync-server/test/link-previews.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateSync } from 'node:zlib';
import { DESKTOP, expect, PHONE, test as base, type Device } from '../fixtures.ts';

/** A PNG of `width`×`height`: a sky over a sea, a sun, as a site's cover picture might be. */
function coverPicture(width: number, height: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const sun = (x - width * 0.7) ** 2 + (y - height * 0.35) ** 2 < (height * 0.12) ** 2;
      const sea = y > height * 0.62;
      const [r, g, b] = sun ? [255, 196, 77] : sea ? [20, 90 + (y % 7), 140] : [120 + (y * 80) / height, 180, 230];
      row.set([r, g, b], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const PICTURE = coverPicture(480, 252);

interface Site {
  origin: string;
  /** Every request's path and the address it came from. */
  hits: string[];
}

const test = base.extend<{ site: Site }>({
  site: async ({}, use) => {
    const hits: string[] = [];
    const server: Server = createServer((request, response) => {
      hits.push(request.url ?? '/');
      if (request.url === '/brunch') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(
          '<!doctype html><html><head><title>x</title><meta property="og:title" content="The 10 best brunch places in town"><meta property="og:description" content="Pancakes, eggs and coffee, ranked by our readers."><meta property="og:site_name" content="City Guide"><meta property="og:image" content="/cover.png"></head><body></body></html>',
        );
      } else if (request.url === '/cover.png') {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.end(PICTURE);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await use({ origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
  serverEnv: async ({ site }, use) => {
    await use({ PARLEY_LINK_PREVIEW_ALLOW: site.origin });
  },
});

const composerCard = (device: Device) => device.page.locator('.link-bar .link-card');

test('a link gets a card over the composer, and Bob’s two devices show it with its picture from Parley', async ({ parley, site }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bobPhone = await parley.signedIn('bob-phone', 'bob', { viewport: PHONE });
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob', { viewport: DESKTOP, colorScheme: 'dark' });
  const siteRequests: string[] = [];
  for (const device of [alice, bobPhone, bobLaptop]) device.page.on('request', (request) => request.url().startsWith(site.origin) && siteRequests.push(request.url()));

  await alice.startChat('bob', 'Bob');
  const text = `Let’s go here: ${site.origin}/brunch`;
  await alice.composer().fill(text);
  await expect(composerCard(alice)).toContainText('The 10 best brunch places in town');
  await expect(composerCard(alice)).toContainText('City Guide');
  await alice.shot('link-preview-composer-desktop');
  await alice.page.keyboard.press('Enter');
  await expect(composerCard(alice)).toHaveCount(0);

  for (const bob of [bobPhone, bobLaptop]) {
    await bob.openConversation('alice', 'Alice');
    const card = bob.message(text).locator('.link-card');
    await expect(card).toContainText('The 10 best brunch places in town');
    await expect(card).toContainText('Pancakes, eggs and coffee');
    await expect(card).toHaveAttribute('href', `${site.origin}/brunch`);
    const image = card.locator('img');
    await expect(image).toHaveAttribute('src', /^\/api\/v1\/media\/links\/[0-9a-f]{64}$/);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(480);
  }
  // The site saw the server once for the page and once for the picture; no browser asked it anything.
  expect(site.hits).toEqual(['/brunch', '/cover.png']);
  expect(siteRequests).toEqual([]);
});

test('a card can be removed before sending, and previews turned off in Settings', async ({ parley, site }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');

  await alice.composer().fill(`no card: ${site.origin}/brunch`);
  await expect(composerCard(alice)).toBeVisible();
  await alice.page.getByRole('button', { name: 'Remove link preview' }).click();
  await expect(composerCard(alice)).toHaveCount(0);
  await expect(alice.composer()).toBeFocused();
  await alice.page.keyboard.press('Enter');

  await alice.page.getByRole('button', { name: 'Settings' }).click();
  const settings = alice.page.getByRole('dialog', { name: 'Settings' });
  const previews = settings.getByRole('switch', { name: 'Link previews' });
  await expect(previews).toHaveAttribute('aria-checked', 'true');
  await previews.click();
  await expect(previews).toHaveAttribute('aria-checked', 'false');
  await settings.getByRole('button', { name: 'Done' }).click();
  await alice.send(`off: ${site.origin}/brunch`);

  await bob.openConversation('alice', 'Alice');
  await expect(bob.message(`off: ${site.origin}/brunch`)).toBeVisible();
  await expect(bob.messages().locator('.link-card')).toHaveCount(0);
  // Asked once, while the first was written; never with previews off.
  expect(site.hits.filter((path) => path === '/brunch')).toHaveLength(1);
  // Kept on the device.
  await alice.page.reload();
  await alice.page.getByRole('button', { name: 'Settings' }).click();
  await expect(alice.page.getByRole('dialog', { name: 'Settings' }).getByRole('switch', { name: 'Link previews' })).toHaveAttribute('aria-checked', 'false');
});

test('the card on a phone and a desktop, light and dark', async ({ parley, site }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.startChat('bob', 'Bob');
  const text = `Saturday? ${site.origin}/brunch`;
  await alice.composer().fill(text);
  await expect(composerCard(alice)).toContainText('The 10 best brunch places in town');
  await alice.page.keyboard.press('Enter');
  for (const [size, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    for (const colorScheme of ['light', 'dark'] as const) {
      const bob = await parley.signedIn(`bob-${size}-${colorScheme}`, 'bob', { viewport, colorScheme });
      await bob.openConversation('alice', 'Alice');
      await expect(bob.message(text).locator('.link-card img')).toBeVisible();
      await bob.shot(`link-preview-${size}-${colorScheme}`);
    }
  }
});
