/**
 * Uploads and media: the HTTP contract both sides follow.
 *
 *   POST /api/v1/uploads                 UploadCreate -> UploadStatus (201), or the existing
 *                                        media when the hash is stored already (200)
 *   GET  /api/v1/uploads/:id             -> UploadStatus (how much the server holds, to resume)
 *   PUT  /api/v1/uploads/:id?offset=N    raw bytes (application/octet-stream) -> UploadStatus;
 *                                        the body is streamed to disk and refused as soon as it
 *                                        passes the declared size or the kind's limit
 *   POST /api/v1/uploads/:id/complete    -> UploadDone: the SHA-256 is checked, the bytes join the
 *                                        store under their hash
 *   DELETE /api/v1/uploads/:id           cancel
 *   GET  /api/v1/media/:hash             the bytes, for members of a conversation with a message
 *                                        that references them (and their uploader); Range requests,
 *                                        nosniff, attachment unless safe to render inline.
 *                                        Authenticated by the bearer token or the media cookie
 *                                        (`<img>` and `<audio>` cannot send headers).
 */
import { z } from 'zod';

export const MEDIA_HASH_PATTERN = /^[0-9a-f]{64}$/;

export const MediaKind = z.enum(['image', 'voice', 'file', 'video']);
export type MediaKind = z.infer<typeof MediaKind>;

const MB = 1024 * 1024;
/** The hosted service's limits: image and voice 28 MB, file and video 100 MB. */
export const MEDIA_LIMITS: Record<MediaKind, number> = {
  image: 28 * MB,
  voice: 28 * MB,
  file: 100 * MB,
  video: 100 * MB,
};

/** Uploads go in chunks of this size, so a dropped connection loses at most one. */
export const UPLOAD_CHUNK_BYTES = 1 * MB;

/** The cookie that authenticates media requests from `<img>`, `<audio>` and `<video>`. */
export const MEDIA_COOKIE = 'parley_media';

export const UploadCreate = z.object({
  kind: MediaKind,
  /** The other member of the conversation the media is for. */
  peer: z.string().min(1).max(64),
  size: z.number().int().nonnegative(),
  mime: z.string().min(1).max(128),
  sha256: z.string().regex(MEDIA_HASH_PATTERN),
  name: z.string().max(255).optional(),
});
export type UploadCreate = z.infer<typeof UploadCreate>;

export const UploadStatus = z.object({
  id: z.string(),
  size: z.number().int().nonnegative(),
  /** Bytes the server holds; the next chunk starts here. */
  received: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
});
export type UploadStatus = z.infer<typeof UploadStatus>;

export const UploadDone = z.object({
  media: z.object({ hash: z.string(), size: z.number(), mime: z.string() }),
  url: z.string(),
});
export type UploadDone = z.infer<typeof UploadDone>;

/** Where the bytes of a media hash are served. */
export const mediaUrl = (hash: string): string => `/api/v1/media/${hash}`;

/** Types a browser may render inline from Parley's origin; anything else is served as an attachment. */
export const INLINE_MIME_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/bmp',
  'audio/webm',
  'audio/ogg',
  'audio/mpeg',
  'audio/mp4',
  'audio/wav',
  'video/webm',
  'video/mp4',
  'video/ogg',
];
