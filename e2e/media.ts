/**
 * Media for the specs, made for real in the browser: a picture drawn on a
 * canvas, a video recorded from a canvas stream, voice from Chromium's fake
 * microphone (`withFakeMicrophone`: MediaRecorder records its tone for real),
 * and the attach menu driven the way a person drives it (the file chooser
 * included).
 */
import { randomBytes } from 'node:crypto';
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

export function randomFile(size: number, name = 'data.bin'): FilePayload {
  return { name, mimeType: 'application/octet-stream', buffer: randomBytes(size) };
}

/** Attach → Photo / Video / File, then the file chooser. */
export async function attach(device: Device, item: 'Photo' | 'Video' | 'File', files: FilePayload | FilePayload[]): Promise<void> {
  const page = device.page;
  await page.getByRole('button', { name: 'Attach' }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('group', { name: 'Attach' }).getByRole('button', { name: item }).click();
  await (await chooser).setFiles(files);
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
