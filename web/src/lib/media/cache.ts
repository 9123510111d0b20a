/**
 * The service worker's cache of media bytes (media/sw.ts). Media is
 * addressed by its SHA-256, so an entry never changes; the page puts what it
 * uploaded there too, so a sender's own media shows offline at once.
 */
export const MEDIA_CACHE = 'parley-media-v1';

/** Whole responses up to this size are cached; bigger media streams from the server by range. */
export const MEDIA_CACHE_WHOLE_BYTES = 32 * 1024 * 1024;
