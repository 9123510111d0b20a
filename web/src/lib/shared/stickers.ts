/**
 * The sticker packs that ship with the app. A sticker travels as a face
 * element `{type: 'face', pack, index, alt}`: the pack id and the index name
 * the picture (web/public/stickers/<pack>/<index>.svg, precached by the
 * service worker so that stickers show offline); `alt` is what a device that
 * lacks the pack (or a screen reader, or a notification) shows instead.
 *
 * Packs are append-only: a sticker once shipped keeps its index forever,
 * since old messages name it.
 */

export interface Sticker {
  index: number;
  /** Short, shown to screen readers and where the pack is unknown. */
  alt: string;
}

export interface StickerPack {
  id: string;
  name: string;
  items: readonly Sticker[];
}

/** Pip, a round friendly blob (drawn by web/scripts/stickers.ts). */
const PIP: StickerPack = {
  id: 'pip',
  name: 'Pip',
  items: [
    'Hello!',
    'Haha',
    'Love it',
    'Thumbs up',
    'So sad',
    'Grr',
    'Sleepy',
    'Party!',
    'Hmm…',
    'Wow!',
    'Coffee time',
    'Thank you',
    'Cool',
    'Sending love',
    'Good night',
    'Oops',
  ].map((alt, index) => ({ index, alt })),
};

export const STICKER_PACKS: readonly StickerPack[] = [PIP];

/** The sticker a face element names, or null when this app does not have it. */
export function findSticker(pack: string, index: number): (Sticker & { pack: StickerPack; src: string }) | null {
  const found = STICKER_PACKS.find((p) => p.id === pack);
  const item = found?.items.find((s) => s.index === index);
  if (found === undefined || item === undefined) return null;
  return { ...item, pack: found, src: stickerSrc(found.id, item.index) };
}

export function stickerSrc(pack: string, index: number): string {
  return `/stickers/${encodeURIComponent(pack)}/${index}.svg`;
}
