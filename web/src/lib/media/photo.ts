/**
 * The pixel work on a photo: decoding it upright (the orientation the camera
 * wrote applied), resizing and re-encoding it (unless it goes as it is), and
 * its thumbnail. No imports, so that the photo worker (photo.worker.ts) runs
 * it off the main thread; capture.ts runs the same code on the main thread
 * where there is no worker (or it fails).
 */

export interface PhotoRequest {
  file: Blob;
  /** Re-encode (at most `maxSide`, WebP else JPEG, at `quality`); false: the file goes as it is. */
  reencode: boolean;
  maxSide: number;
  quality: number;
  /** The longest side of the thumbnail; a picture this small is its own. */
  thumbSide: number;
  /** The thumbnail keeps transparency (WebP) rather than being a JPEG. */
  thumbAlpha: boolean;
}

export interface PhotoResult {
  /** The bytes to send; null: the file itself. */
  sent: Blob | null;
  width: number;
  height: number;
  /** Null when the picture is its own thumbnail. */
  thumbnail: { blob: Blob; width: number; height: number } | null;
}

/** The browser cannot decode it: it goes as a file. */
export class PhotoUndecodable extends Error {}

export function fit(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Draws `source` at `size` and encodes it as `type` (the browser may answer another type: PNG where it cannot write WebP). */
export async function draw(source: CanvasImageSource, size: { width: number; height: number }, type: string, quality: number): Promise<Blob> {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(size.width, size.height);
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2D canvas on this device');
    ctx.drawImage(source, 0, 0, size.width, size.height);
    return canvas.convertToBlob({ type, quality });
  }
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  canvas.getContext('2d')?.drawImage(source, 0, 0, size.width, size.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob === null ? reject(new Error('the picture could not be encoded')) : resolve(blob)), type, quality);
  });
}

export async function encodePhoto(request: PhotoRequest): Promise<PhotoResult> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(request.file, { imageOrientation: 'from-image' });
  } catch {
    throw new PhotoUndecodable();
  }
  try {
    const size = fit(bitmap.width, bitmap.height, request.reencode ? request.maxSide : Infinity);
    let sent: Blob | null = null;
    if (request.reencode) {
      // Drawn pixels carry no metadata: no EXIF, no location.
      sent = await draw(bitmap, size, 'image/webp', request.quality);
      if (sent.type !== 'image/webp') sent = await draw(bitmap, size, 'image/jpeg', request.quality);
    }
    let thumbnail: PhotoResult['thumbnail'] = null;
    if (Math.max(size.width, size.height) > request.thumbSide) {
      const thumbSize = fit(size.width, size.height, request.thumbSide);
      thumbnail = { blob: await draw(bitmap, thumbSize, request.thumbAlpha ? 'image/webp' : 'image/jpeg', 0.8), ...thumbSize };
    }
    return { sent, ...size, thumbnail };
  } finally {
    bitmap.close();
  }
}
