/**
 * Photos done right (issue 17): the preview before sending (a caption, Remove,
 * the original chosen knowingly), photos resized and re-encoded on the device
 * with their location stripped, the full-screen viewer, and voice messages
 * with a waveform and a speed button. Two users, each on two devices.
 *
 * The source photo is a real camera-like JPEG: pixels drawn on a canvas, and
 * an EXIF block written by hand (orientation "turned a quarter" and a GPS
 * position), which exifr reads back before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import type { Download, Locator } from '@playwright/test';
import exifr from 'exifr';
import { DESKTOP, type Device, expect, PHONE, SIZES } from '../fixtures.ts';
import {
  attach,
  canvasPhoto,
  canvasPicture,
  exifTiff,
  messagesOfType,
  previewDialog,
  recordVoice,
  webpChunks,
  webpWithExif,
  withExif,
  withFakeMicrophone as test,
} from '../media.ts';

const EIFFEL = { latitude: 48.8584, longitude: 2.2945 };
const SCHEMES = ['light', 'dark'] as const;

async function expectSent(device: Device, type: string, count: number): Promise<void> {
  const mine = messagesOfType(device, type);
  await expect(mine).toHaveCount(count, { timeout: 30_000 });
  await expect(mine.last()).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });
}

async function downloaded(download: Download): Promise<Buffer> {
  return readFile(await download.path());
}

/** The location exifr finds in a file: a JPEG read whole, a WebP through its EXIF chunk (exifr reads no WebP container). */
async function gpsOf(bytes: Buffer): Promise<{ latitude: number; longitude: number } | undefined> {
  if (bytes.toString('ascii', 8, 12) !== 'WEBP') return exifr.gps(bytes);
  const exif = webpChunks(bytes).find((c) => c.id === 'EXIF');
  return exif === undefined ? undefined : exifr.gps(exif.data);
}

/** Opens the viewer on a photo, clicks Download, and answers the file. */
async function downloadFromViewer(device: Device, open: Locator): Promise<Download> {
  await open.click();
  const viewer = device.page.getByRole('dialog', { name: 'Photo' });
  await expect(viewer).toBeVisible();
  const downloading = device.page.waitForEvent('download');
  await viewer.getByRole('link', { name: /^Download / }).click();
  const download = await downloading;
  await device.page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  return download;
}

test('a photo goes with its caption, resized, upright and without its location; the original only when chosen knowingly', async ({ parley }) => {
  test.setTimeout(240_000);
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const alice = await parley.signedIn('alice', 'alice', { viewport: PHONE });
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice', { viewport: DESKTOP });
  const bob = await parley.signedIn('bob', 'bob', { viewport: PHONE });
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob', { viewport: DESKTOP });

  // The source: 3000 × 2000 stored on its side (Orientation 6), taken at the Eiffel Tower.
  const source = withExif(await canvasPhoto(alice, 3000, 2000, 'eiffel.jpg'), { orientation: 6, ...EIFFEL });
  const sourceGps = await exifr.gps(source.buffer);
  expect(sourceGps?.latitude).toBeCloseTo(EIFFEL.latitude, 3);
  expect(sourceGps?.longitude).toBeCloseTo(EIFFEL.longitude, 3);
  expect(await exifr.orientation(source.buffer)).toBe(6);

  await alice.startChat('bob', 'Bob Chen');
  await attach(alice, 'Photo', source);
  const preview = previewDialog(alice);
  await expect(preview).toHaveAccessibleName('Send 1 photo');
  await expect(preview.getByRole('img', { name: 'eiffel.jpg' })).toBeVisible();
  await expect(preview).toContainText('Photos are resized and their location data is removed.');
  await expect(preview.getByLabel('Caption')).toBeFocused();
  await preview.getByLabel('Caption').fill('The tower at dusk');
  // Nothing goes before Send.
  await expect(alice.messages()).toHaveCount(0);
  await preview.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(preview).toBeHidden();
  await expectSent(alice, 'image', 1);
  await expect(messagesOfType(alice, 'image')).toContainText('The tower at dusk');
  // The resizing ran in the photo worker, off the main thread.
  expect(alice.page.workers().map((w) => new URL(w.url()).pathname)).toContainEqual(expect.stringMatching(/photo\.worker/));

  // Alice's other device, and both of Bob's, show it with its caption; upright (2000 × 3000 turned) and at most 2,560 px.
  await aliceLaptop.openConversation('bob', 'Bob Chen');
  await expect(messagesOfType(aliceLaptop, 'image')).toContainText('The tower at dusk');
  await bobLaptop.openConversation('alice', 'Alice Martin');
  await expect(messagesOfType(bobLaptop, 'image').getByRole('button', { name: 'Open photo, 1707 × 2560' })).toBeVisible();
  await expect(messagesOfType(bobLaptop, 'image')).toContainText('The tower at dusk');
  await bob.openConversation('alice', 'Alice Martin');
  const photo = messagesOfType(bob, 'image').first();
  await expect(photo).toContainText('The tower at dusk');
  // The caption is words: in the conversation list's preview, and found by search.
  await expect(bob.conversationLink('alice')).toContainText('📷 The tower at dusk');
  const found = (): Promise<string[]> =>
    bob.page.evaluate(async () => (await (window as unknown as { parley: { search: (q: string) => Promise<{ snippet: string }[]> } }).parley.search('dusk')).map((r) => r.snippet));
  await expect.poll(found).toEqual(['📷 The tower at dusk']);

  const sent = await downloadFromViewer(bob, photo.getByRole('button', { name: 'Open photo, 1707 × 2560' }));
  expect(sent.suggestedFilename()).toBe('eiffel.webp');
  const sentBytes = await downloaded(sent);
  expect(sentBytes.length, 'the photo sent is smaller than the original').toBeLessThan(source.buffer.length);
  const chunks = webpChunks(sentBytes).map((c) => c.id);
  expect(chunks, 'a WebP with no EXIF or XMP chunk').not.toContain('EXIF');
  expect(chunks).not.toContain('XMP ');
  expect(await gpsOf(sentBytes), 'no location in what Bob got').toBeUndefined();
  // The check would see one if it were there.
  expect((await gpsOf(webpWithExif(sentBytes, exifTiff({ orientation: 1, ...EIFFEL }))))?.latitude).toBeCloseTo(EIFFEL.latitude, 3);

  // The original: chosen in the preview, which says what that means; then it goes byte for byte.
  await attach(alice, 'Photo', source);
  await expect(preview).toBeVisible();
  await preview.getByRole('checkbox', { name: 'Send the original photo' }).check();
  await expect(preview).toContainText('The original keeps its full size and its location data: whoever gets it can see where it was taken.');
  await preview.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(preview).toBeHidden();
  await expectSent(alice, 'image', 2);
  await expect(alice.messages()).toHaveCount(2);

  const original = messagesOfType(bob, 'image').nth(1);
  const kept = await downloadFromViewer(bob, original.getByRole('button', { name: 'Open photo, 2000 × 3000' }));
  expect(kept.suggestedFilename()).toBe('eiffel.jpg');
  const keptBytes = await downloaded(kept);
  expect(keptBytes.equals(source.buffer), 'the original arrives unchanged').toBe(true);
  expect((await gpsOf(keptBytes))?.latitude).toBeCloseTo(EIFFEL.latitude, 3);
});

test('several photos at once: Remove drops one, each goes as its own message with the caption on the first; the viewer zooms, steps, downloads and closes', async ({ parley }) => {
  test.setTimeout(240_000);
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const alice = await parley.signedIn('alice', 'alice', { viewport: PHONE });
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice', { viewport: DESKTOP });
  const bob = await parley.signedIn('bob', 'bob', { viewport: PHONE });
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob', { viewport: DESKTOP });

  await alice.startChat('bob', 'Bob Chen');
  await alice.send('Photos from the weekend');
  const preview = previewDialog(alice);

  // A picture pasted into the message field opens the preview too; Cancel sends nothing.
  const pasted = await canvasPicture(alice, 320, 240, 'pasted.png');
  await alice.composer().evaluate((field, bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
    field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, [...pasted.buffer]);
  await expect(preview).toHaveAccessibleName('Send 1 photo');
  await expect(preview.getByRole('img', { name: 'pasted.png' })).toBeVisible();
  await preview.getByRole('button', { name: 'Cancel' }).click();
  await expect(preview).toBeHidden();

  await attach(alice, 'Photo', [await canvasPicture(alice, 800, 450, 'beach.png'), await canvasPicture(alice, 640, 480, 'blurry.png'), await canvasPicture(alice, 480, 640, 'dunes.png')]);
  await expect(preview).toHaveAccessibleName('Send 3 photos');
  await preview.getByLabel('Caption').fill('Two of three');
  for (const [kind, viewport] of SIZES) {
    for (const scheme of SCHEMES) {
      await alice.page.setViewportSize(viewport);
      await alice.page.emulateMedia({ colorScheme: scheme });
      await alice.shot(`media-preview-${kind}-${scheme}`);
    }
  }
  await alice.page.setViewportSize(PHONE);
  await preview.getByRole('button', { name: 'Remove blurry.png' }).click();
  await expect(preview).toHaveAccessibleName('Send 2 photos');
  await expect(preview.getByRole('img')).toHaveCount(2);
  await preview.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(preview).toBeHidden();
  await expectSent(alice, 'image', 2);
  await expect(alice.messages()).toHaveCount(3);

  for (const device of [aliceLaptop, bobLaptop, bob]) {
    if (device === aliceLaptop) await device.openConversation('bob', 'Bob Chen');
    else await device.openConversation('alice', 'Alice Martin');
    const photos = messagesOfType(device, 'image');
    await expect(photos).toHaveCount(2);
    await expect(photos.nth(0).getByRole('button', { name: 'Open photo, 800 × 450' })).toBeVisible();
    await expect(photos.nth(0)).toContainText('Two of three');
    await expect(photos.nth(1).getByRole('button', { name: 'Open photo, 480 × 640' })).toBeVisible();
    await expect(photos.nth(1)).not.toContainText('Two of three');
  }

  // The viewer, on Bob's laptop (keyboard and wheel).
  const page = bobLaptop.page;
  const opener = messagesOfType(bobLaptop, 'image').nth(0).getByRole('button', { name: 'Open photo, 800 × 450' });
  await opener.click();
  const viewer = page.getByRole('dialog', { name: 'Photo' });
  await expect(viewer).toBeVisible();
  await expect(viewer.getByRole('img', { name: 'Photo, 800 × 450' })).toBeVisible();
  await expect(viewer).toContainText('1 of 2');
  const zoom = viewer.getByRole('status', { name: 'Zoom' });
  await expect(zoom).toHaveText('100%');
  await page.keyboard.press('+');
  await expect(zoom).toHaveText('150%');
  await page.keyboard.press('-');
  await expect(zoom).toHaveText('100%');
  await page.mouse.move(640, 400);
  await page.mouse.wheel(0, -100);
  await expect(zoom).toHaveText('125%');
  await page.mouse.wheel(0, 100);
  await expect(zoom).toHaveText('100%');
  // A double click zooms in; then a drag pans (and does not step); a double click zooms back out.
  const shown = viewer.getByRole('img', { name: 'Photo, 800 × 450' });
  await page.mouse.dblclick(640, 400);
  await expect(zoom).toHaveText('250%');
  const before = await shown.evaluate((el) => el.style.transform);
  await page.mouse.down();
  await page.mouse.move(540, 380, { steps: 5 });
  await page.mouse.up();
  await expect.poll(() => shown.evaluate((el) => el.style.transform)).not.toBe(before);
  await expect(viewer).toContainText('1 of 2');
  await page.mouse.dblclick(640, 400);
  await expect(zoom).toHaveText('100%');
  await page.keyboard.press('ArrowRight');
  await expect(viewer.getByRole('img', { name: 'Photo, 480 × 640' })).toBeVisible();
  await expect(viewer).toContainText('2 of 2');
  await page.keyboard.press('ArrowRight');
  await expect(viewer).toContainText('2 of 2');
  await page.keyboard.press('ArrowLeft');
  await expect(viewer.getByRole('img', { name: 'Photo, 800 × 450' })).toBeVisible();
  await expect(viewer).toContainText('1 of 2');
  const downloading = page.waitForEvent('download');
  await viewer.getByRole('link', { name: 'Download beach.webp' }).click();
  expect((await downloading).suggestedFilename()).toBe('beach.webp');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  await expect(opener).toBeFocused();

  // A swipe on the phone steps to the next photo.
  const phoneOpener = messagesOfType(bob, 'image').nth(0).getByRole('button', { name: 'Open photo, 800 × 450' });
  await phoneOpener.click();
  const phoneViewer = bob.page.getByRole('dialog', { name: 'Photo' });
  await expect(phoneViewer.getByRole('img', { name: 'Photo, 800 × 450' })).toBeVisible();
  await bob.page.mouse.move(300, 420);
  await bob.page.mouse.down();
  await bob.page.mouse.move(200, 425, { steps: 4 });
  await bob.page.mouse.move(80, 430, { steps: 4 });
  await bob.page.mouse.up();
  await expect(phoneViewer.getByRole('img', { name: 'Photo, 480 × 640' })).toBeVisible();
  await bob.page.keyboard.press('ArrowLeft');
  await expect(phoneViewer.getByRole('img', { name: 'Photo, 800 × 450' })).toBeVisible();
  await expect(phoneViewer).toContainText('Two of three');
  for (const [kind, viewport] of SIZES) {
    for (const scheme of SCHEMES) {
      await bob.page.setViewportSize(viewport);
      await bob.page.emulateMedia({ colorScheme: scheme });
      await bob.shot(`media-viewer-${kind}-${scheme}`);
    }
  }
  await bob.page.keyboard.press('Escape');
  await expect(phoneViewer).toBeHidden();
});

test('a voice message arrives with the waveform measured while recording, and its speed button cycles 1×, 1.5×, 2×', async ({ parley }) => {
  test.setTimeout(180_000);
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const alice = await parley.signedIn('alice', 'alice', { viewport: PHONE });
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice', { viewport: DESKTOP });
  const bob = await parley.signedIn('bob', 'bob', { viewport: PHONE });
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob', { viewport: DESKTOP });

  await alice.startChat('bob', 'Bob Chen');
  await recordVoice(alice, 3);
  await expectSent(alice, 'voice', 1);

  for (const device of [aliceLaptop, bobLaptop, bob]) {
    if (device === aliceLaptop) await device.openConversation('bob', 'Bob Chen');
    else await device.openConversation('alice', 'Alice Martin');
    const voice = messagesOfType(device, 'voice');
    await expect(voice.getByRole('button', { name: /^Play voice message, 0:0[34]$/ })).toBeVisible();
    // The waveform: one bar per level (up to 64), of more than one height (the fake microphone beeps).
    const track = voice.getByRole('slider', { name: 'Position' });
    await expect.poll(async () => Number(await track.getAttribute('data-levels'))).toBeGreaterThanOrEqual(32);
    const heights = await track.locator('rect').evaluateAll((bars) => new Set(bars.map((b) => b.getAttribute('height'))).size);
    expect(heights, 'the bars follow the sound').toBeGreaterThan(1);
  }

  const voice = messagesOfType(bob, 'voice');
  const audio = voice.getByLabel(/^Voice message, 0:0[34]$/);
  const rate = (): Promise<number> => audio.evaluate((el: HTMLAudioElement) => el.playbackRate);
  const speed = voice.getByRole('button', { name: /^Playback speed/ });
  await expect(speed).toHaveText('1×');
  expect(await rate()).toBe(1);
  await speed.click();
  await expect(speed).toHaveText('1.5×');
  expect(await rate()).toBe(1.5);
  await speed.click();
  await expect(speed).toHaveText('2×');
  expect(await rate()).toBe(2);
  // Playing shows progress on the waveform.
  await voice.getByRole('button', { name: /^Play voice message/ }).click();
  await expect(voice.getByRole('button', { name: 'Pause voice message' })).toBeVisible();
  await expect.poll(() => voice.locator('rect.played').count(), { message: 'the part played is drawn' }).toBeGreaterThan(0);
  await speed.click();
  await expect(speed).toHaveText('1×');
  expect(await rate()).toBe(1);
  await expect(voice.getByRole('button', { name: /^Play voice message/ })).toBeVisible({ timeout: 15_000 });

  // A voice message from before waveforms (the same recording, no levels) still shows, with a plain bar.
  const ref = await alice.page.evaluate(async () => {
    const el = document.querySelector<HTMLAudioElement>('[data-type="voice"] audio');
    if (el === null) throw new Error('no voice message');
    const blob = await (await fetch(el.src)).blob();
    return { hash: new URL(el.src).pathname.split('/').pop() ?? '', size: blob.size, mime: blob.type.split(';')[0] ?? 'audio/webm' };
  });
  await alice.writeUnchecked('bob', {
    id: 'old-voice',
    from: 'alice',
    to: 'bob',
    type: 'voice',
    body: [{ type: 'voice', media: ref, duration: 3, format: 'webm' }],
    ts: Date.now(),
    profile: { nickname: 'Alice Martin' },
  });
  await expect(messagesOfType(bob, 'voice')).toHaveCount(2);
  const old = messagesOfType(bob, 'voice').nth(1);
  await expect(old.getByRole('button', { name: 'Play voice message, 0:03' })).toBeVisible();
  await expect(old.getByRole('slider', { name: 'Position' })).toHaveAttribute('data-levels', '0');

  await bob.send('Got it, thanks!');
  for (const [kind, viewport] of SIZES) {
    for (const scheme of SCHEMES) {
      await bob.page.setViewportSize(viewport);
      await bob.page.emulateMedia({ colorScheme: scheme });
      await bob.messageLog().evaluate((log) => log.scrollTo({ top: log.scrollHeight }));
      await bob.shot(`media-voice-${kind}-${scheme}`);
    }
  }
});
