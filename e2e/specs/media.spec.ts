/**
 * Every message type, end to end: Alice sends text, an emoji, a photo drawn
 * on a canvas, a voice message recorded from Chromium's fake microphone, a video
 * recorded from a canvas, a file of random bytes and her location. Bob's
 * device shows each one, loads what plays, and downloads the file byte for
 * byte. Then screenshots of it all on a phone and a desktop, light and dark.
 */
import { readFile } from 'node:fs/promises';
import type { Locator } from '@playwright/test';
import { DESKTOP, type Device, expect, PHONE } from '../fixtures.ts';
import { attach, attachAndSend, canvasPicture, canvasVideo, messagesOfType, randomFile, recordVoice, sendLocation, withFakeMicrophone as test } from '../media.ts';

const EIFFEL = { latitude: 48.8584, longitude: 2.2945 };

/**
 * The newest message is of `type` (it is on screen: media is measured and
 * hashed first) and out: the server stamped it. Waiting for each keeps the
 * order: a media message waits for its uploads, so what follows could pass it.
 */
async function expectSent(device: Device, type: string): Promise<void> {
  const newest = device.messages().last();
  await expect(newest).toHaveAttribute('data-type', type);
  await expect(newest).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });
}

async function expectImageLoaded(img: Locator, naturalWidth: number): Promise<void> {
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)), { message: 'the picture loads', timeout: 30_000 }).toBe(naturalWidth);
}

/** Loads a media element's metadata (it is `preload="none"` in the list) and answers its readyState. */
async function loadMetadata(media: Locator): Promise<{ readyState: number; width: number }> {
  return media.evaluate(async (el: HTMLMediaElement) => {
    el.preload = 'metadata';
    const ready = new Promise<void>((resolve, reject) => {
      el.addEventListener('loadedmetadata', () => resolve(), { once: true });
      el.addEventListener('error', () => reject(new Error(`media error ${el.error?.code ?? '?'}: ${el.error?.message ?? ''}`)), { once: true });
    });
    el.load();
    await ready;
    return { readyState: el.readyState, width: el instanceof HTMLVideoElement ? el.videoWidth : 0 };
  });
}

/** A new viewport keeps the old scroll position: show the newest messages, as the app does on opening. */
async function scrollToEnd(device: Device): Promise<void> {
  await device.messageLog().evaluate((log) => log.scrollTo({ top: log.scrollHeight }));
}

test('every message type goes from Alice to Bob and shows on his device', async ({ parley }) => {
  test.setTimeout(180_000);
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const alice = await parley.device('alice');
  await alice.context.grantPermissions(['geolocation'], { origin: parley.url });
  await alice.context.setGeolocation(EIFFEL);
  await alice.signIn('alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob Chen');
  await alice.send('Hi Bob! Everything from the trip 👇');
  await alice.send('🎉');
  await attachAndSend(alice, 'Photo', await canvasPicture(alice, 800, 450));
  await expectSent(alice, 'image');
  await recordVoice(alice, 2);
  await expectSent(alice, 'voice');
  await attachAndSend(alice, 'Video', await canvasVideo(alice), 'Colours, fast');
  await expectSent(alice, 'video');
  const file = randomFile(2.5 * 1024 * 1024, 'trip-notes.bin');
  await attach(alice, 'File', file);
  await expectSent(alice, 'file');
  await sendLocation(alice, 'Meet me here');
  await expectSent(alice, 'location');

  const TYPES = ['text', 'text', 'image', 'voice', 'video', 'file', 'location'];
  const typesOf = (device: Device): Promise<string[]> => device.messages().evaluateAll((els) => els.map((el) => el.getAttribute('data-type') ?? ''));
  // The list is virtualised: the rows above the latest are rendered once it settles after following the last send.
  await expect.poll(() => typesOf(alice)).toEqual(TYPES);

  await bob.openConversation('alice', 'Alice Martin');
  await expect(bob.messages()).toHaveCount(TYPES.length);
  await expect.poll(() => typesOf(bob)).toEqual(TYPES);
  await expect(bob.message('Hi Bob! Everything from the trip 👇')).toBeVisible();
  await expect(bob.message('🎉')).toBeVisible();

  // The photo: its 320 px thumbnail in the list, the photo as sent (a PNG re-encoded, the same size) in the viewer.
  const photo = messagesOfType(bob, 'image');
  const open = photo.getByRole('button', { name: 'Open photo, 800 × 450' });
  await expectImageLoaded(open.locator('img'), 320);
  await open.click();
  const lightbox = bob.page.getByRole('dialog', { name: 'Photo' });
  await expectImageLoaded(lightbox.getByRole('img', { name: 'Photo, 800 × 450' }), 800);
  await lightbox.getByRole('button', { name: 'Close' }).click();
  await expect(lightbox).toBeHidden();

  // The voice message: its measured length, and a player that loads it.
  const voice = messagesOfType(bob, 'voice');
  await expect(voice.getByRole('button', { name: /^Play voice message, 0:0[23]$/ })).toBeVisible();
  const audio = voice.getByLabel(/^Voice message, 0:0[23]$/);
  expect((await loadMetadata(audio)).readyState).toBeGreaterThanOrEqual(1);

  // The video: a poster, its length, and a player that loads it.
  // The video's caption, from the preview.
  await expect(messagesOfType(bob, 'video')).toContainText('Colours, fast');
  const video = messagesOfType(bob, 'video').getByLabel(/^Video, 0:0[12]$/);
  await expect(video).toHaveAttribute('poster', /\/api\/v1\/media\/[0-9a-f]{64}$/);
  expect((await loadMetadata(video)).width).toBe(320);

  // The file: name and size, and a download that is the very same bytes.
  const fileBubble = messagesOfType(bob, 'file');
  await expect(fileBubble).toContainText('trip-notes.bin');
  await expect(fileBubble).toContainText('2.5 MB');
  const downloading = bob.page.waitForEvent('download');
  await fileBubble.getByRole('link', { name: 'Download trip-notes.bin, 2.5 MB' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('trip-notes.bin');
  const saved = await readFile(await download.path());
  expect(saved.equals(file.buffer), 'the downloaded file has the bytes Alice sent').toBe(true);

  // The location: caption, coordinates and a link to the map.
  const location = messagesOfType(bob, 'location');
  await expect(location.getByRole('group', { name: 'Location: Meet me here' })).toBeVisible();
  await expect(location).toContainText('48.85840, 2.29450');
  await expect(location.getByRole('link', { name: 'Open in OpenStreetMap' })).toHaveAttribute('href', 'https://www.openstreetmap.org/?mlat=48.85840&mlon=2.29450#map=16/48.85840/2.29450');

  // The conversation list says what came last, in words.
  await expect(bob.conversationLink('alice')).toContainText('📍 Meet me here');

  // ---- screenshots: the conversation (Bob), the attach menu and a recording (Alice) ----
  await video.evaluate(async (el: HTMLVideoElement) => {
    // The poster is drawn once it has loaded: wait for it, not for a time.
    const poster = new Image();
    poster.src = el.poster;
    await poster.decode();
  });
  for (const [kind, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    for (const scheme of ['light', 'dark'] as const) {
      await bob.page.setViewportSize(viewport);
      await bob.page.emulateMedia({ colorScheme: scheme });
      await scrollToEnd(bob);
      await bob.shot(`media-conversation-${kind}-${scheme}`);
    }
  }

  const attachMenu = alice.page.getByRole('group', { name: 'Attach' });
  for (const [kind, viewport, scheme] of [
    ['phone', PHONE, 'light'],
    ['desktop', DESKTOP, 'dark'],
  ] as const) {
    await alice.page.setViewportSize(viewport);
    await alice.page.emulateMedia({ colorScheme: scheme });
    await scrollToEnd(alice);
    await alice.page.getByRole('button', { name: 'Attach' }).click();
    await expect(attachMenu).toBeVisible();
    await alice.shot(`media-attach-${kind}-${scheme}`);
    await alice.page.keyboard.press('Escape');
    await expect(attachMenu).toBeHidden();
  }
  for (const [kind, viewport, scheme] of [
    ['phone', PHONE, 'dark'],
    ['desktop', DESKTOP, 'light'],
  ] as const) {
    await alice.page.setViewportSize(viewport);
    await alice.page.emulateMedia({ colorScheme: scheme });
    await scrollToEnd(alice);
    await alice.page.getByRole('button', { name: 'Record voice message' }).click();
    await expect(alice.page.getByRole('timer')).toHaveText('0:01');
    await alice.shot(`media-recording-${kind}-${scheme}`);
    await alice.page.getByRole('button', { name: 'Cancel recording' }).click();
    await expect(alice.page.getByRole('timer')).toBeHidden();
  }
  // Cancelled recordings send nothing.
  await expect(alice.messages()).toHaveCount(TYPES.length);
});
