/**
 * The photos a viewer steps through: a conversation view offers those of the
 * messages it holds (its window, in display order), so that arrow keys and
 * swipes in the viewer go to the next and previous photo of the conversation.
 * Where no conversation offers them (a photo shown elsewhere), the viewer
 * shows that one photo alone.
 */
import { getContext, setContext } from 'svelte';
import type { Element } from '@parley/protocol';
import type { LocalBlobs } from '../media/source.svelte.ts';

export type ImageElement = Extract<Element, { type: 'image' }>;

export interface GalleryItem {
  /** Unique in the gallery: the message id and the element's position in it. */
  key: string;
  element: ImageElement;
  local?: LocalBlobs;
}

const KEY = Symbol('gallery');

/** Answers the photos of the conversation in order, read when a viewer opens. */
export type Gallery = () => GalleryItem[];

export function offerGallery(gallery: Gallery): void {
  setContext(KEY, gallery);
}

export function galleryOf(): Gallery | undefined {
  return getContext<Gallery | undefined>(KEY);
}

export const galleryKey = (messageId: string, index: number): string => `${messageId}:${index}`;
