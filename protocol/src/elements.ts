/**
 * The elements of a message body. A message carries one or more of them, like
 * the hosted service's message body array: text, face (emoji or sticker),
 * location, image, voice, file, video, custom, and system notices (written by
 * the server only). Media elements point at uploaded bytes by content hash
 * (see media.ts); the bytes never travel in a document.
 */
import { z } from 'zod';
import { MEDIA_HASH_PATTERN } from './media.ts';
import { LIMITS } from './limits.ts';
import { cleanText } from './names.ts';

/** Where the server serves a link preview's image from: its own origin, never the linked site's (links/ on the server). */
export const LINK_IMAGE_PATH = '/api/v1/media/links';

/**
 * The card of the first link of a text, made when it was written: the
 * server fetched the page (GET /api/v1/link-previews) and re-serves its image
 * from Parley's origin, so a reader's device never contacts the linked site.
 */
export const LinkPreview = z.object({
  url: z
    .string()
    .max(2048)
    .refine((url) => /^https?:\/\//i.test(url), 'a link preview is of an http(s) URL'),
  title: z.string().min(1).max(300),
  description: z.string().max(1000).optional(),
  /** The site's name (og:site_name), or its host. */
  site: z.string().max(200).optional(),
  image: z
    .string()
    .refine((path) => path.startsWith(`${LINK_IMAGE_PATH}/`) && MEDIA_HASH_PATTERN.test(path.slice(LINK_IMAGE_PATH.length + 1)), 'a preview image is served by this server')
    .optional(),
});
export type LinkPreview = z.infer<typeof LinkPreview>;

/** GET /api/v1/link-previews?url= */
export const LinkPreviewQuery = z.object({ url: z.string().min(1).max(2048) });

export const TextElement = z.object({ type: z.literal('text'), text: z.string().min(1), preview: LinkPreview.optional() });

/** An emoji or a sticker: the pack it comes from and its index there. */
export const FaceElement = z.object({
  type: z.literal('face'),
  pack: z.string().min(1).max(64),
  index: z.number().int().nonnegative(),
  /** What to show where the pack is unknown (an emoji, or a short name). */
  alt: z.string().max(64).optional(),
});

export const LocationElement = z.object({
  type: z.literal('location'),
  caption: z.string().max(256),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** Uploaded bytes: their SHA-256 (hex), size and media type. */
export const MediaRef = z.object({
  hash: z.string().regex(MEDIA_HASH_PATTERN, 'a media hash is 64 lower-case hex digits'),
  size: z.number().int().nonnegative(),
  mime: z.string().min(1).max(128),
});
export type MediaRef = z.infer<typeof MediaRef>;

const Dimension = z.number().int().positive().max(65535);

/** One rendition of a picture: the uploaded bytes and their pixel size. */
export const Picture = z.object({ media: MediaRef, width: Dimension, height: Dimension });
export type Picture = z.infer<typeof Picture>;

export const ImageFormat = z.enum(['jpg', 'gif', 'png', 'bmp', 'webp', 'other']);

/** What the sender wrote under a photo or a video: shown under it, in previews and in search. */
export const Caption = z.string().min(1).max(LIMITS.captionLength);

/** A name to offer on download; cleaned by the sender like a file's name (names.ts `cleanText`). */
const MediaName = z.string().min(1).max(255).refine((name) => name === cleanText(name), 'a file name holds no control, bidi or zero-width characters');

export const ImageElement = z.object({
  type: z.literal('image'),
  format: ImageFormat,
  /** What was sent: the picture as chosen ("original"), or resized and re-encoded on the device (no EXIF, so no location). */
  original: Picture,
  thumbnail: Picture,
  caption: Caption.optional(),
  /** The chosen file's name (its extension the sent format's), offered on download. Older messages have none. */
  name: MediaName.optional(),
});

/**
 * A voice message's loudness over its length, measured on the device while
 * recording: up to LIMITS.waveformLevels levels, 0 (silence) to 255 (loudest
 * of the recording), evenly spaced. Older voice messages have none.
 */
export const Waveform = z.array(z.number().int().min(0).max(255)).min(1).max(LIMITS.waveformLevels);

export const VoiceElement = z.object({
  type: z.literal('voice'),
  media: MediaRef,
  /** Seconds. */
  duration: z.number().nonnegative(),
  format: z.string().min(1).max(32),
  waveform: Waveform.optional(),
});

export const FileElement = z.object({
  type: z.literal('file'),
  media: MediaRef,
  /** The name the sender's file had; shown and offered on download, never used as a path. Cleaned by the sender (names.ts `cleanText`): a name that hides or reorders characters is refused. */
  name: MediaName,
  format: z.string().max(32).optional(),
});

export const VideoElement = z.object({
  type: z.literal('video'),
  media: MediaRef,
  /** Seconds. */
  duration: z.number().nonnegative(),
  format: z.string().min(1).max(32),
  thumbnail: Picture.extend({ format: ImageFormat }),
  caption: Caption.optional(),
});

/**
 * An app-defined message. `kind` names an entry of the client's custom-message
 * registry, which checks `data` against that kind's own schema; the server
 * checks only the shape and the size (the 12 KB body limit).
 */
export const CustomElement = z.object({
  type: z.literal('custom'),
  kind: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a custom kind is 1-32 of a-z 0-9 -'),
  data: z.unknown(),
  /** Shown where the kind is unknown, and in previews and notifications. */
  description: z.string().max(256),
});

/** Kinds of system notice the app renders; `custom` shows its title and text. */
export const SystemKind = z.enum(['friend-added', 'message-recalled', 'custom']);
/** A notice written by the server only (admin API); clients may not write one. */
export const SystemElement = z.object({
  type: z.literal('system'),
  kind: SystemKind,
  title: z.string().max(256).optional(),
  text: z.string().min(1),
});

export const Element = z.discriminatedUnion('type', [
  TextElement,
  FaceElement,
  LocationElement,
  ImageElement,
  VoiceElement,
  FileElement,
  VideoElement,
  CustomElement,
  SystemElement,
]);
export type Element = z.infer<typeof Element>;

export const ELEMENT_TYPES = ['text', 'face', 'location', 'image', 'voice', 'file', 'video', 'custom', 'system'] as const;
/** A message's type: the type of its main element. */
export const MessageType = z.enum(ELEMENT_TYPES);
export type MessageType = z.infer<typeof MessageType>;

/** Every media reference in a body (originals, thumbnails, posters). */
export function mediaOf(body: readonly Element[]): MediaRef[] {
  const refs: MediaRef[] = [];
  for (const e of body) {
    if (e.type === 'image') refs.push(e.original.media, e.thumbnail.media);
    else if (e.type === 'voice' || e.type === 'file') refs.push(e.media);
    else if (e.type === 'video') refs.push(e.media, e.thumbnail.media);
  }
  return refs;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One element in words, for previews and notifications. */
export function describeElement(e: Element): string {
  switch (e.type) {
    case 'text':
    case 'system':
      return e.text;
    case 'face':
      return e.alt ?? 'Sticker';
    case 'location':
      return `📍 ${e.caption || 'Location'}`;
    case 'image':
      return e.caption === undefined ? '📷 Photo' : `📷 ${e.caption}`;
    case 'voice':
      return `🎤 Voice message (${clock(e.duration)})`;
    case 'file':
      return `📎 ${e.name}`;
    case 'video':
      return e.caption === undefined ? `🎬 Video (${clock(e.duration)})` : `🎬 ${e.caption}`;
    case 'custom':
      return e.description || 'Message';
  }
}

/** A one-line preview for the conversation list and notifications. */
export function previewOfBody(body: readonly Element[]): string {
  const text = body.map(describeElement).join(' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
