/**
 * A message body in the hosted service's format, as Parley elements: the
 * plain elements translate as they are (tim-plain.ts); media named by URL
 * are fetched once and stored (media-fetch.ts). The message's type is its
 * first element that is not text (a caption's picture), else text.
 */
import { cleanText, ELEMENT_TYPES, type Element, type MessageType } from '@parley/protocol';
import { type TimElem, type TimImageInfo } from '@parley/protocol/compat';
import { Refusal } from '../errors.ts';
import type { MediaFetcher } from './media-fetch.ts';
import { fromTimPlain } from './tim-plain.ts';

const IMAGE_FORMATS: Record<number, 'jpg' | 'gif' | 'png' | 'bmp'> = { 1: 'jpg', 2: 'gif', 3: 'png', 4: 'bmp' };
const PICTURE_FORMATS = new Set(['jpg', 'gif', 'png', 'bmp', 'webp']);

/** A format name from a MIME type's subtype (`audio/mp4` → `mp4`), at most 32 characters. */
const formatOf = (mime: string, fallback: string): string => (mime.split('/')[1]?.split(/[;+]/)[0]?.trim() || fallback).slice(0, 32);

export interface Parties {
  from: string;
  to: string;
}

export async function fromTimBody(body: readonly TimElem[], parties: Parties, fetcher: MediaFetcher): Promise<{ type: MessageType; body: Element[] }> {
  const out: Element[] = [];
  for (const elem of body) out.push(await fromTimElem(elem, parties, fetcher));
  const main = out.find((e) => e.type !== 'text') ?? out[0];
  if (main === undefined) throw new Refusal('bad-request', 'MsgBody holds no element');
  return { type: ELEMENT_TYPES.includes(main.type) ? main.type : 'text', body: out };
}

async function fromTimElem(elem: TimElem, parties: Parties, fetcher: MediaFetcher): Promise<Element> {
  const plain = fromTimPlain(elem);
  if (plain !== null) return plain;
  switch (elem.MsgType) {
    case 'TIMImageElem': {
      const renditions = elem.MsgContent.ImageInfoArray;
      const pick = (type: TimImageInfo['Type']): TimImageInfo | undefined => renditions.find((r) => r.Type === type);
      const originalInfo = pick(1) ?? pick(2) ?? pick(3);
      const thumbInfo = pick(3) ?? pick(2) ?? originalInfo;
      if (originalInfo === undefined || thumbInfo === undefined) throw new Refusal('bad-request', 'TIMImageElem has no rendition');
      const original = await fetcher.picture(originalInfo.URL, parties);
      const thumbnail = thumbInfo.URL === originalInfo.URL ? original : await fetcher.picture(thumbInfo.URL, parties);
      const named = IMAGE_FORMATS[elem.MsgContent.ImageFormat ?? 0];
      const sniffed = formatOf(original.media.mime, 'other');
      return {
        type: 'image',
        format: named ?? (PICTURE_FORMATS.has(sniffed) ? (sniffed as 'webp') : sniffed === 'jpeg' ? 'jpg' : 'other'),
        original,
        thumbnail,
      };
    }
    case 'TIMSoundElem': {
      const voice = await fetcher.fetch(elem.MsgContent.Url, { ...parties, kind: 'voice' });
      return { type: 'voice', media: voice.media, duration: elem.MsgContent.Second, format: formatOf(voice.media.mime, 'audio') };
    }
    case 'TIMFileElem': {
      const name = cleanText(elem.MsgContent.FileName).slice(0, 255) || 'file';
      const file = await fetcher.fetch(elem.MsgContent.Url, { ...parties, kind: 'file', name });
      const extension = /\.([A-Za-z0-9]{1,32})$/.exec(name)?.[1]?.toLowerCase();
      return { type: 'file', media: file.media, name, ...(extension === undefined ? {} : { format: extension }) };
    }
    case 'TIMVideoFileElem': {
      const c = elem.MsgContent;
      const video = await fetcher.fetch(c.VideoUrl, { ...parties, kind: 'video' });
      const thumb = await fetcher.picture(c.ThumbUrl, parties);
      const thumbFormat = (c.ThumbFormat ?? formatOf(thumb.media.mime, 'other')).toLowerCase().replace('jpeg', 'jpg');
      return {
        type: 'video',
        media: video.media,
        duration: c.VideoSecond,
        format: (c.VideoFormat ?? formatOf(video.media.mime, 'video')).slice(0, 32),
        thumbnail: { ...thumb, format: PICTURE_FORMATS.has(thumbFormat) ? (thumbFormat as 'jpg') : 'other' },
      };
    }
    default:
      throw new Refusal('bad-request', `${elem.MsgType} is not an element Parley knows`);
  }
}
