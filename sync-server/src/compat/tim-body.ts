/**
 * A Parley message body in the hosted service's element format, as `/v4/`
 * answers (admin_getroammsg) and the callbacks carry it. Media become
 * absolute URLs on this server (`mediaUrl`), their UUID the content hash.
 * A system notice has no counterpart in one-to-one messages there: it goes
 * as a custom element whose `Ext` is `parley:system`.
 */
import { type Element, type Message, type Picture } from '@parley/protocol';
import { TIM_IMAGE_FORMATS, type TimElem, type TimImageInfo } from '@parley/protocol/compat';
import { msgRandomOf } from './keys.ts';

export type MediaUrl = (hash: string) => string;

/** `parley:system` custom elements are notices; Ext marks what Parley wrote so that a round trip keeps it. */
export const SYSTEM_EXT = 'parley:system';

function rendition(type: 1 | 2 | 3, picture: Picture, url: MediaUrl): TimImageInfo {
  return { Type: type, Size: picture.media.size, Width: picture.width, Height: picture.height, URL: url(picture.media.hash) };
}

export function toTimElem(e: Element, url: MediaUrl): TimElem {
  switch (e.type) {
    case 'text':
      return { MsgType: 'TIMTextElem', MsgContent: { Text: e.text } };
    case 'face':
      return { MsgType: 'TIMFaceElem', MsgContent: { Index: e.index, Data: e.pack } };
    case 'location':
      return { MsgType: 'TIMLocationElem', MsgContent: { Desc: e.caption, Latitude: e.latitude, Longitude: e.longitude } };
    case 'image':
      return {
        MsgType: 'TIMImageElem',
        MsgContent: {
          UUID: e.original.media.hash,
          ImageFormat: TIM_IMAGE_FORMATS[e.format],
          // Parley keeps two renditions; the original stands for the large one too.
          ImageInfoArray: [rendition(1, e.original, url), rendition(2, e.original, url), rendition(3, e.thumbnail, url)],
        },
      };
    case 'voice':
      return { MsgType: 'TIMSoundElem', MsgContent: { Url: url(e.media.hash), UUID: e.media.hash, Size: e.media.size, Second: Math.round(e.duration), Download_Flag: 2 } };
    case 'file':
      return { MsgType: 'TIMFileElem', MsgContent: { Url: url(e.media.hash), UUID: e.media.hash, FileSize: e.media.size, FileName: e.name, Download_Flag: 2 } };
    case 'video':
      return {
        MsgType: 'TIMVideoFileElem',
        MsgContent: {
          VideoUrl: url(e.media.hash),
          VideoUUID: e.media.hash,
          VideoSize: e.media.size,
          VideoSecond: Math.round(e.duration),
          VideoFormat: e.format,
          VideoDownloadFlag: 2,
          ThumbUrl: url(e.thumbnail.media.hash),
          ThumbUUID: e.thumbnail.media.hash,
          ThumbSize: e.thumbnail.media.size,
          ThumbWidth: e.thumbnail.width,
          ThumbHeight: e.thumbnail.height,
          ThumbFormat: e.thumbnail.format,
          ThumbDownloadFlag: 2,
        },
      };
    case 'custom':
      return { MsgType: 'TIMCustomElem', MsgContent: { Data: typeof e.data === 'string' ? e.data : JSON.stringify(e.data ?? null), Desc: e.description, Ext: e.kind } };
    case 'system':
      return { MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify({ kind: e.kind, title: e.title }), Desc: e.text, Ext: SYSTEM_EXT } };
  }
}

export function toTimBody(body: readonly Element[], url: MediaUrl): TimElem[] {
  return body.map((e) => toTimElem(e, url));
}

/** The fields that name a message in the hosted service's callbacks: who, to whom, its sequence, random, time and key. */
export function timMessageFields(message: Message, seq: number): { From_Account: string; To_Account: string; MsgSeq: number; MsgRandom: number; MsgTime: number; MsgKey: string } {
  return { From_Account: message.from, To_Account: message.to, MsgSeq: seq, MsgRandom: msgRandomOf(message.id), MsgTime: Math.floor(message.ts / 1000), MsgKey: message.id };
}
