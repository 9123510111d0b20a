/**
 * Uploads and media: the HTTP contract both sides follow.
 *
 *   POST /api/v1/uploads                 UploadCreate -> UploadStatus (201); or UploadDone (200) at
 *                                        once when the hash is stored already and the caller may
 *                                        read it (uploaded it, or is in a conversation it was sent
 *                                        in). Anyone else uploads the bytes (proof they have them);
 *                                        complete then keeps the one stored copy.
 *   GET  /api/v1/uploads/:id             -> UploadStatus (how much the server holds, to resume)
 *   PUT  /api/v1/uploads/:id?offset=N    raw bytes, `Content-Type: application/octet-stream` ->
 *                                        UploadStatus. N must be `received` (else 409
 *                                        upload-offset-mismatch); the body is streamed to disk and
 *                                        refused (413) as soon as it passes the declared size. A
 *                                        body cut short keeps what arrived: resume from `received`.
 *   POST /api/v1/uploads/:id/complete    -> UploadDone: the SHA-256 is checked, the bytes join the
 *                                        store under their hash
 *   DELETE /api/v1/uploads/:id           cancel
 *   POST /api/v1/media?kind=&peer=&mime=[&name=&sha256=]
 *                                        one request, raw body of any length (chunked is fine) ->
 *                                        UploadDone (201); not resumable; refused (413) as soon as
 *                                        it passes the kind's limit. Without `peer`: an avatar
 *                                        (belongs to no conversation), kind=image and an
 *                                        AVATAR_MIME_TYPES type only (bad-request otherwise)
 *   GET  /api/v1/media/:hash[?name=]     the bytes, for members of a conversation with a message
 *                                        that references them (and their uploader); Range requests,
 *                                        nosniff, attachment unless safe to render inline.
 *                                        Authenticated by the bearer token or the media cookie
 *                                        (`<img>` and `<audio>` cannot send headers), which every
 *                                        Session response sets.
 *
 * Every upload answer (and a 409) carries `Upload-Offset: <received>`. Anyone
 * the media is not for gets 404 media-not-found, as if it did not exist.
 */
import { z } from 'zod';
import { FileName } from './names.ts';

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

/**
 * The cookie that authenticates media requests from `<img>`, `<audio>` and
 * `<video>`: the access token, HttpOnly, SameSite=Strict, Path=MEDIA_PATH.
 */
export const MEDIA_COOKIE = 'parley_media';
/** Where media is served (and the media cookie's path). */
export const MEDIA_PATH = '/api/v1/media';
/** The response header that says how many bytes of an upload the server holds. */
export const UPLOAD_OFFSET_HEADER = 'upload-offset';

export const UploadCreate = z.object({
  kind: MediaKind,
  /** The other member of the conversation the media is for. */
  peer: z.string().min(1).max(64),
  size: z.number().int().nonnegative(),
  mime: z.string().min(1).max(128),
  sha256: z.string().regex(MEDIA_HASH_PATTERN),
  name: FileName.optional(),
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
export const mediaUrl = (hash: string): string => `${MEDIA_PATH}/${hash}`;

/**
 * Whether `value` is an avatar Parley accepts: the relative address of media
 * uploaded to this server (`/api/v1/media/<sha256>`), so that showing a
 * profile never makes a browser fetch a third party's address.
 */
export function isAvatarUrl(value: string): boolean {
  return value.startsWith(`${MEDIA_PATH}/`) && MEDIA_HASH_PATTERN.test(value.slice(MEDIA_PATH.length + 1));
}

/** The media hash of an avatar address, or null when it is not one (isAvatarUrl). */
export const avatarHash = (value: string): string | null => (isAvatarUrl(value) ? value.slice(MEDIA_PATH.length + 1) : null);

/** `PUT /api/v1/uploads/:id?offset=N`. */
export const UploadChunkQuery = z.object({ offset: z.coerce.number().int().nonnegative() });

/** The types of an avatar uploaded without a peer (`POST /api/v1/media?kind=image&mime=…`): images a browser draws. */
export const AVATAR_MIME_TYPES: readonly string[] = ['image/webp', 'image/png', 'image/jpeg'];

/** `POST /api/v1/media?...`: a one-shot upload's metadata (its body is the bytes). */
export const OneShotUploadQuery = z.object({
  kind: MediaKind,
  /** The other member of the conversation the media is for; absent for an avatar (see AVATAR_MIME_TYPES). */
  peer: z.string().min(1).max(64).optional(),
  mime: z.string().min(1).max(128).default('application/octet-stream'),
  name: FileName.optional(),
  /** When given, the bytes must hash to it (hash-mismatch otherwise). */
  sha256: z.string().regex(MEDIA_HASH_PATTERN).optional(),
});

/** `GET /api/v1/media/:hash?name=`: the file name to offer on download, instead of the uploaded one. */
export const MediaQuery = z.object({ name: FileName.optional() });

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
