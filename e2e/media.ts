/**
 * Media for the specs, made for real in the browser: a picture drawn on a
 * canvas, a video recorded from a canvas stream, voice from Chromium's fake
 * microphone (`withFakeMicrophone`: MediaRecorder records its tone for real),
 * and the attach menu driven the way a person drives it (the file chooser
 * included).
 */
import { randomBytes } from 'node:crypto';
import type { Locator } from '@playwright/test';
import { type Device, expect, test } from './fixtures.ts';

/**
 * The fixtures' test, with Chromium's fake microphone and camera, and their
 * permission granted without a prompt, for specs that record.
 */
export const withFakeMicrophone = test.extend<object, object>({
  launchOptions: [
    async ({ launchOptions }, use) => {
      await use({ ...launchOptions, args: [...(launchOptions.args ?? []), '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
    },
    { scope: 'worker' },
  ],
});

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** A PNG drawn on a canvas in the page (a gradient, shapes and a label). */
export async function canvasPicture(device: Device, width = 640, height = 480, name = 'sunset.png'): Promise<FilePayload> {
  const bytes = await device.page.evaluate(
    async ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (ctx === null) throw new Error('no 2D canvas');
      const sky = ctx.createLinearGradient(0, 0, 0, h);
      sky.addColorStop(0, '#1e3c72');
      sky.addColorStop(0.6, '#f2994a');
      sky.addColorStop(1, '#eb5757');
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#ffd86b';
      ctx.beginPath();
      ctx.arc(w * 0.5, h * 0.68, h * 0.16, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#10243f';
      ctx.fillRect(0, h * 0.8, w, h * 0.2);
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
      if (blob === null) throw new Error('canvas.toBlob gave nothing');
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height] as const,
  );
  return { name, mimeType: 'image/png', buffer: Buffer.from(bytes) };
}

/** A short 320 × 180 WebM recorded with MediaRecorder from a canvas that animates (canvas.captureStream). */
export async function canvasVideo(device: Device, seconds = 1.5, name = 'clip.webm'): Promise<FilePayload> {
  const bytes = await device.page.evaluate(async (ms) => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 180;
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2D canvas');
    let frame = 0;
    const draw = (): void => {
      ctx.fillStyle = `hsl(${(frame * 7) % 360} 70% 45%)`;
      ctx.fillRect(0, 0, 320, 180);
      ctx.fillStyle = '#fff';
      ctx.font = 'bold 48px sans-serif';
      ctx.fillText(`#${frame}`, 110, 110);
      frame++;
    };
    draw();
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e): void => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    const timer = setInterval(draw, 40);
    recorder.start(250);
    // The length of the clip, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, ms));
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const blob = new Blob(chunks, { type: 'video/webm' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  }, seconds * 1000);
  return { name, mimeType: 'video/webm', buffer: Buffer.from(bytes) };
}

/**
 * A camera-like JPEG drawn on a canvas in the page: a gradient under a few
 * hundred random shapes (detail, so that it is as heavy as a photo), encoded
 * at quality 0.95. It carries no metadata: add some with `withExif`.
 */
export async function canvasPhoto(device: Device, width: number, height: number, name = 'photo.jpg'): Promise<FilePayload> {
  const base64 = await device.page.evaluate(
    async ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (ctx === null) throw new Error('no 2D canvas');
      const sky = ctx.createLinearGradient(0, 0, w, h);
      sky.addColorStop(0, '#355c7d');
      sky.addColorStop(0.5, '#c06c84');
      sky.addColorStop(1, '#f8b195');
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, w, h);
      for (let i = 0; i < 600; i++) {
        ctx.fillStyle = `hsl(${Math.random() * 360} 60% ${30 + Math.random() * 40}% / 0.6)`;
        ctx.fillRect(Math.random() * w, Math.random() * h, 4 + Math.random() * 120, 4 + Math.random() * 120);
      }
      // An arrow that points up when the picture is the right way round (stored on its side: see withExif's orientation).
      ctx.fillStyle = '#fff';
      ctx.beginPath();
      ctx.moveTo(w * 0.9, h / 2);
      ctx.lineTo(w * 0.6, h * 0.3);
      ctx.lineTo(w * 0.6, h * 0.7);
      ctx.fill();
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.95));
      if (blob === null) throw new Error('canvas.toBlob gave nothing');
      const url = await new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = (): void => resolve(reader.result as string);
        reader.readAsDataURL(blob);
      });
      return url.slice(url.indexOf(',') + 1);
    },
    [width, height] as const,
  );
  return { name, mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') };
}

/** Where a photo was taken, and how the camera held it (EXIF Orientation: 1 upright, 6 turned a quarter clockwise). */
export interface ExifTags {
  orientation: number;
  latitude: number;
  longitude: number;
}

/** A degree value as EXIF writes it: degrees, minutes, seconds, three RATIONALs (big-endian, over 1, 1 and 1000). */
function dms(value: number): Buffer {
  const abs = Math.abs(value);
  const degrees = Math.floor(abs);
  const minutes = Math.floor((abs - degrees) * 60);
  const seconds = Math.round(((abs - degrees) * 60 - minutes) * 60 * 1000);
  const out = Buffer.alloc(24);
  [degrees, 1, minutes, 1, seconds, 1000].forEach((n, i) => out.writeUInt32BE(n, i * 4));
  return out;
}

/**
 * `jpeg` with an EXIF APP1 segment written by hand right after its SOI marker:
 * "Exif\0\0", a big-endian TIFF header, IFD0 with Orientation and a pointer to
 * a GPS IFD, and the GPS IFD with latitude and longitude (and their N/S, E/W
 * references) — what a phone camera writes, minus everything else.
 */
export function withExif(jpeg: FilePayload, tags: ExifTags): FilePayload {
  const { buffer } = jpeg;
  if (buffer[0] !== 0xff || buffer[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), exifTiff(tags)]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0); // APP1
  header.writeUInt16BE(payload.length + 2, 2); // the length counts itself
  return { ...jpeg, buffer: Buffer.concat([buffer.subarray(0, 2), header, payload, buffer.subarray(2)]) };
}

/** The TIFF structure of an EXIF block (what JPEG's APP1 and WebP's EXIF chunk hold): IFD0 with Orientation, and a GPS IFD. */
export function exifTiff(tags: ExifTags): Buffer {
  const IFD0 = 8;
  const IFD0_SIZE = 2 + 2 * 12 + 4;
  const GPS = IFD0 + IFD0_SIZE;
  const GPS_SIZE = 2 + 4 * 12 + 4;
  const LAT = GPS + GPS_SIZE;
  const LON = LAT + 24;
  const tiff = Buffer.alloc(LON + 24);
  tiff.write('MM', 0, 'ascii');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(IFD0, 4);
  /** One 12-byte IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count, then the value or its offset. */
  const entry = (at: number, tag: number, type: number, count: number, value: (field: number) => void): void => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    value(at + 8);
  };
  tiff.writeUInt16BE(2, IFD0);
  entry(IFD0 + 2, 0x0112, 3, 1, (f) => tiff.writeUInt16BE(tags.orientation, f)); // Orientation
  entry(IFD0 + 14, 0x8825, 4, 1, (f) => tiff.writeUInt32BE(GPS, f)); // GPSInfo IFD pointer
  tiff.writeUInt32BE(0, IFD0 + 26); // no next IFD
  tiff.writeUInt16BE(4, GPS);
  entry(GPS + 2, 0x0001, 2, 2, (f) => tiff.write(tags.latitude >= 0 ? 'N\0' : 'S\0', f, 'ascii')); // GPSLatitudeRef
  entry(GPS + 14, 0x0002, 5, 3, (f) => tiff.writeUInt32BE(LAT, f)); // GPSLatitude
  entry(GPS + 26, 0x0003, 2, 2, (f) => tiff.write(tags.longitude >= 0 ? 'E\0' : 'W\0', f, 'ascii')); // GPSLongitudeRef
  entry(GPS + 38, 0x0004, 5, 3, (f) => tiff.writeUInt32BE(LON, f)); // GPSLongitude
  tiff.writeUInt32BE(0, GPS + 50);
  dms(tags.latitude).copy(tiff, LAT);
  dms(tags.longitude).copy(tiff, LON);
  return tiff;
}

/** The chunks of a WebP file (RIFF): their four-letter ids and payloads. Throws when it is no WebP. */
export function webpChunks(buffer: Buffer): { id: string; data: Buffer }[] {
  if (buffer.toString('ascii', 0, 4) !== 'RIFF' || buffer.toString('ascii', 8, 12) !== 'WEBP') throw new Error('not a WebP file');
  const chunks: { id: string; data: Buffer }[] = [];
  for (let at = 12; at + 8 <= buffer.length; ) {
    const size = buffer.readUInt32LE(at + 4);
    chunks.push({ id: buffer.toString('ascii', at, at + 4), data: buffer.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

/** `webp` with an EXIF chunk appended (and its RIFF size fixed): to show that `webpChunks` + exifr find a location where there is one. */
export function webpWithExif(webp: Buffer, tiff: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write('EXIF', 0, 'ascii');
  head.writeUInt32LE(tiff.length, 4);
  const out = Buffer.concat([webp, head, tiff, Buffer.alloc(tiff.length % 2)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

export function randomFile(size: number, name = 'data.bin'): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: randomBytes(size) };
}

/**
 * Attach → Photo / Video / File, then the file chooser. Photos and videos
 * open the preview (`previewDialog`): send it from there.
 */
export async function attach(device: Device, item: 'Photo' | 'Video' | 'File', files: FilePayload | FilePayload[]): Promise<void> {
  const page = device.page;
  await page.getByRole('button', { name: 'Attach' }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('group', { name: 'Attach' }).getByRole('button', { name: item }).click();
  await (await chooser).setFiles(files);
}

/** The preview of photos and videos chosen (its title says how many). */
export function previewDialog(device: Device): Locator {
  return device.page.getByRole('dialog', { name: /^Send \d+ (photo|video)/ });
}

/** Attach → Photo or Video, then Send in the preview (with a caption, if given). */
export async function attachAndSend(device: Device, item: 'Photo' | 'Video', files: FilePayload | FilePayload[], caption?: string): Promise<void> {
  await attach(device, item, files);
  const preview = previewDialog(device);
  await expect(preview).toBeVisible();
  if (caption !== undefined) await preview.getByLabel('Caption').fill(caption);
  await preview.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(preview).toBeHidden();
}

/** Records a voice message by tapping the microphone, waiting for the timer to reach `seconds`, then Send. */
export async function recordVoice(device: Device, seconds: number): Promise<void> {
  const page = device.page;
  await page.getByRole('button', { name: 'Record voice message' }).click();
  const timer = page.getByRole('timer');
  await expect(timer).toBeVisible();
  await expect(timer).toHaveText(`0:${String(seconds).padStart(2, '0')}`, { timeout: (seconds + 10) * 1000 });
  await page.getByRole('button', { name: 'Send voice message' }).click();
  await expect(timer).toBeHidden();
}

/** Attach → Location, with a caption (the context's geolocation is the position). */
export async function sendLocation(device: Device, caption: string): Promise<void> {
  const page = device.page;
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.getByRole('group', { name: 'Attach' }).getByRole('button', { name: 'Location' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send your location' });
  await expect(dialog.getByRole('button', { name: 'Send location' })).toBeEnabled();
  await dialog.getByLabel('Caption').fill(caption);
  await dialog.getByRole('button', { name: 'Send location' }).click();
  await expect(dialog).toBeHidden();
}

/** The message bubbles of one type (text, image, voice, video, file, location…). */
export function messagesOfType(device: Device, type: string): ReturnType<Device['messages']> {
  return device.messages().and(device.page.locator(`[data-type="${type}"]`));
}
