/**
 * Turning what the user picked, pasted, dropped or recorded into a message
 * element and the bytes to upload, on the device: pixel sizes and a
 * thumbnail (≤ 320 px) for pictures, duration and a poster frame for video,
 * the SHA-256 of every blob. Limits (MEDIA_LIMITS) are checked first, with a
 * message that says what to do.
 *
 * A photo is resized (longest side ≤ SENT_PX) and re-encoded (WebP, else
 * JPEG) with its orientation applied, unless the user chose to send the
 * original: re-encoding writes no EXIF, so the sent picture carries no
 * location. A GIF goes as it is (re-encoding would stop its animation).
 */
import { cleanText, LIMITS, MEDIA_LIMITS, type Element, type MediaKind, type MediaRef, type Picture } from '@parley/protocol';
import { formatBytes, safeFileName } from '../shared/format.ts';
import { AppError } from '../shared/errors.ts';
import { sha256Hex } from './uploads.ts';
import { draw, encodePhoto, fit, PhotoUndecodable, type PhotoRequest, type PhotoResult } from './photo.ts';

/** The longest side of a thumbnail or a video poster. */
export const THUMBNAIL_PX = 320;
/** The longest side of a photo as sent (unless the original is chosen). */
export const SENT_PX = 2560;
/** WebP quality of a sent photo: no visible loss on a phone, a fraction of a camera's JPEG. */
const SENT_QUALITY = 0.85;

/** Bytes to upload for an element: one per distinct hash. */
export interface PreparedBlob {
  hash: string;
  blob: Blob;
  mime: string;
  kind: MediaKind;
  name?: string | undefined;
}

export interface Prepared {
  element: Element;
  blobs: PreparedBlob[];
}

export type Attachment =
  /** `original`: the file goes unchanged (EXIF, location included); else resized and re-encoded. */
  | { kind: 'image'; file: File; caption?: string | undefined; original?: boolean | undefined }
  | { kind: 'video'; file: File; caption?: string | undefined }
  | { kind: 'file'; file: File }
  | { kind: 'voice'; blob: Blob; duration: number; waveform?: number[] | undefined }
  | { kind: 'location'; caption: string; latitude: number; longitude: number };

/** A picture or video this browser cannot open: it can still go as a file. */
export class Undecodable extends AppError {
  constructor(message: string) {
    super('bad-request', message);
  }
}

const VIDEO_UNDECODABLE = 'This video cannot be played here, so it goes as a file.';

const KIND_WORDS: Record<MediaKind, string> = { image: 'Photos', voice: 'Voice messages', file: 'Files', video: 'Videos' };

/** Refuses, in words, media over its kind's limit. */
export function checkLimit(kind: MediaKind, size: number): void {
  const limit = MEDIA_LIMITS[kind];
  if (size > limit) {
    throw new AppError('media-too-large', `${KIND_WORDS[kind]} can be at most ${formatBytes(limit)}; this one is ${formatBytes(size)}.`);
  }
  if (size === 0) throw new AppError('bad-request', 'That file is empty.');
}

/** The media type without parameters ("audio/webm;codecs=opus" → "audio/webm"), or a safe default. */
export function baseMime(type: string, fallback = 'application/octet-stream'): string {
  const base = type.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(base) ? base : fallback;
}

const IMAGE_FORMATS: Record<string, 'jpg' | 'gif' | 'png' | 'bmp' | 'webp'> = {
  'image/jpeg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/gif': 'gif',
  'image/png': 'png',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
};

export function imageFormat(mime: string): 'jpg' | 'gif' | 'png' | 'bmp' | 'webp' | 'other' {
  return IMAGE_FORMATS[baseMime(mime)] ?? 'other';
}

/** A short format word from a media type or a file name: "webm", "pdf". */
export function formatOf(mime: string, name?: string): string {
  const ext = name === undefined ? undefined : /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1];
  if (ext !== undefined) return ext.toLowerCase();
  const sub = baseMime(mime).split('/')[1] ?? 'bin';
  return (sub.replace(/^x-/, '').split(/[.+]/)[0] ?? 'bin').slice(0, 32) || 'bin';
}

async function blobRef(blob: Blob, mime: string, kind: MediaKind, name?: string): Promise<{ ref: MediaRef; prepared: PreparedBlob }> {
  const hash = await sha256Hex(blob);
  return { ref: { hash, size: blob.size, mime }, prepared: { hash, blob, mime, kind, name } };
}

/** Draws `source` at `size` and encodes it (WebP keeps transparency, JPEG is smaller for photos). */
function encode(source: CanvasImageSource, size: { width: number; height: number }, alpha: boolean): Promise<Blob> {
  return draw(source, size, alpha ? 'image/webp' : 'image/jpeg', 0.8);
}

/** A worker, while one answers; null once one failed to start (then the main thread does the work). */
let worker: Worker | null | undefined;
let lastRequest = 0;

type PhotoAnswer = { id: number } & ({ ok: true; result: PhotoResult } | { ok: false; undecodable: boolean; message: string });

/** Runs one photo request in the photo worker, else (no worker, no OffscreenCanvas, or it failed) here. */
async function photoWork(request: PhotoRequest): Promise<PhotoResult> {
  if (worker === undefined) {
    try {
      worker = typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined' ? null : new Worker(new URL('./photo.worker.ts', import.meta.url), { type: 'module' });
    } catch {
      worker = null;
    }
  }
  const w = worker;
  if (w !== null) {
    try {
      return await new Promise<PhotoResult>((resolve, reject) => {
        const id = ++lastRequest;
        const done = (event: MessageEvent<PhotoAnswer>): void => {
          if (event.data.id !== id) return;
          w.removeEventListener('message', done);
          w.removeEventListener('error', failed);
          const answer = event.data;
          if (answer.ok) resolve(answer.result);
          else reject(answer.undecodable ? new PhotoUndecodable() : new Error(answer.message));
        };
        const failed = (): void => {
          w.removeEventListener('message', done);
          w.removeEventListener('error', failed);
          worker = null;
          reject(new Error('the photo worker failed'));
        };
        w.addEventListener('message', done);
        w.addEventListener('error', failed);
        w.postMessage({ id, request });
      });
    } catch (e) {
      if (e instanceof PhotoUndecodable) throw e;
      // Anything else the worker could not do, the main thread tries.
    }
  }
  return encodePhoto(request);
}

/** The chosen file's name with the extension of what is sent ("IMG_1234.HEIC" → "IMG_1234.webp"). */
export function sentName(name: string, format: string): string {
  const safe = safeFileName(name);
  const stem = safe.replace(/\.[A-Za-z0-9]{1,10}$/, '') || 'photo';
  return `${stem.slice(0, 240)}.${format === 'other' ? 'img' : format}`;
}

/** A caption as sent: trimmed, capped, none when empty. */
export function cleanCaption(caption: string | undefined): string | undefined {
  // Cut first, then cleaned: a cut through an emoji leaves half of it, which cleaning drops.
  const value = cleanText((caption?.trim() ?? '').slice(0, LIMITS.captionLength));
  return value.length === 0 ? undefined : value;
}

async function prepareImage(file: File, options: { original?: boolean | undefined; caption?: string | undefined }): Promise<Prepared> {
  const given = baseMime(file.type, 'image/png');
  // A GIF goes as it is: re-encoding would stop its animation.
  const reencode = options.original !== true && given !== 'image/gif';
  let photo: PhotoResult;
  try {
    photo = await photoWork({ file, reencode, maxSide: SENT_PX, quality: SENT_QUALITY, thumbSide: THUMBNAIL_PX, thumbAlpha: given !== 'image/jpeg' || reencode });
  } catch (e) {
    if (e instanceof PhotoUndecodable) throw new Undecodable('This picture cannot be shown here, so it goes as a file.');
    throw e;
  }
  const sent = photo.sent ?? file;
  const mime = photo.sent === null ? given : baseMime(photo.sent.type, 'image/jpeg');
  const format = imageFormat(mime);
  const original = await blobRef(sent, mime, 'image');
  const originalPicture: Picture = { media: original.ref, width: photo.width, height: photo.height };
  const caption = cleanCaption(options.caption);
  const extra = { name: sentName(file.name || 'photo', format), ...(caption === undefined ? {} : { caption }) };
  // A picture that is small already is its own thumbnail: one upload.
  if (photo.thumbnail === null) {
    return { element: { type: 'image', format, original: originalPicture, thumbnail: originalPicture, ...extra }, blobs: [original.prepared] };
  }
  const { blob: thumbBlob, width, height } = photo.thumbnail;
  const thumb = await blobRef(thumbBlob, baseMime(thumbBlob.type, 'image/jpeg'), 'image');
  return {
    element: { type: 'image', format, original: originalPicture, thumbnail: { media: thumb.ref, width, height }, ...extra },
    blobs: [original.prepared, thumb.prepared],
  };
}

function once(target: EventTarget, type: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, done);
      target.removeEventListener('error', fail);
      reject(new Undecodable(VIDEO_UNDECODABLE));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      target.removeEventListener('error', fail);
      resolve();
    };
    const fail = (): void => {
      clearTimeout(timer);
      target.removeEventListener(type, done);
      reject(new Undecodable(VIDEO_UNDECODABLE));
    };
    target.addEventListener(type, done, { once: true });
    target.addEventListener('error', fail, { once: true });
  });
}

/** Duration, pixel size and a poster frame (at ~0.1 s) of a video, from a hidden <video>. */
async function prepareVideo(file: Blob, name?: string, caption?: string): Promise<Prepared> {
  const mime = baseMime(file.type, 'video/mp4');
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  try {
    const loaded = once(video, 'loadeddata', 15_000);
    video.src = url;
    await loaded;
    let duration = video.duration;
    // Recordings (MediaRecorder's WebM) often carry no duration: seeking far makes the browser find it.
    if (!Number.isFinite(duration)) {
      const found = once(video, 'durationchange', 15_000);
      video.currentTime = Number.MAX_SAFE_INTEGER;
      await found;
      duration = Number.isFinite(video.duration) ? video.duration : 0;
    }
    const seeked = once(video, 'seeked', 15_000);
    video.currentTime = Math.min(0.1, duration / 2);
    await seeked;
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) throw new Undecodable(VIDEO_UNDECODABLE);
    const size = fit(width, height, THUMBNAIL_PX);
    const posterBlob = await encode(video, size, false);
    const media = await blobRef(file, mime, 'video', name);
    const poster = await blobRef(posterBlob, baseMime(posterBlob.type, 'image/jpeg'), 'image');
    return {
      element: {
        type: 'video',
        media: media.ref,
        duration: Math.round(duration * 10) / 10,
        format: formatOf(mime),
        thumbnail: { media: poster.ref, ...size, format: imageFormat(poster.ref.mime) },
        ...(caption === undefined ? {} : { caption }),
      },
      blobs: [media.prepared, poster.prepared],
    };
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

/** An attachment as an element and the bytes to upload; refuses what is over the limits. */
export async function prepare(attachment: Attachment): Promise<Prepared> {
  switch (attachment.kind) {
    case 'location': {
      const { caption, latitude, longitude } = attachment;
      return { element: { type: 'location', caption: caption.trim().slice(0, 256), latitude, longitude }, blobs: [] };
    }
    case 'voice': {
      checkLimit('voice', attachment.blob.size);
      const mime = baseMime(attachment.blob.type, 'audio/webm');
      const voice = await blobRef(attachment.blob, mime, 'voice');
      const duration = Math.max(0, Math.round(attachment.duration * 10) / 10);
      const waveform = attachment.waveform?.slice(0, LIMITS.waveformLevels).map((v) => Math.max(0, Math.min(255, Math.round(v))));
      return {
        element: { type: 'voice', media: voice.ref, duration, format: formatOf(mime), ...(waveform === undefined || waveform.length === 0 ? {} : { waveform }) },
        blobs: [voice.prepared],
      };
    }
    case 'image':
      checkLimit('image', attachment.file.size);
      return prepareImage(attachment.file, attachment);
    case 'video':
      checkLimit('video', attachment.file.size);
      return prepareVideo(attachment.file, safeFileName(attachment.file.name), cleanCaption(attachment.caption));
    case 'file': {
      checkLimit('file', attachment.file.size);
      const name = safeFileName(attachment.file.name);
      const mime = baseMime(attachment.file.type);
      const file = await blobRef(attachment.file, mime, 'file', name);
      return { element: { type: 'file', media: file.ref, name, format: formatOf(mime, name) }, blobs: [file.prepared] };
    }
  }
}

/** What a picked or dropped file should be sent as: a picture, a video, or a file. */
export function kindOfFile(file: File): 'image' | 'video' | 'file' {
  const mime = baseMime(file.type, '');
  if (IMAGE_FORMATS[mime] !== undefined) return 'image';
  if (mime.startsWith('video/')) return 'video';
  return 'file';
}

/** The device's position, or an error in words (permission refused, no fix). */
export function locate(): Promise<{ latitude: number; longitude: number; accuracy: number }> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) {
      reject(new AppError('bad-request', 'This browser cannot tell your location.'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy }),
      (e) =>
        reject(
          new AppError(
            'bad-request',
            e.code === e.PERMISSION_DENIED ? 'Parley may not use your location. Allow it in your browser’s site settings, then try again.' : 'Your location could not be found. Try again.',
          ),
        ),
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    );
  });
}
