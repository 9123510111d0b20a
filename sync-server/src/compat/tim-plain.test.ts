import { describe, expect, it } from 'vitest';
import { Element } from '@parley/protocol';
import { type TimElem } from '@parley/protocol/compat';
import { toTimBody } from './tim-body.ts';
import { fromTimPlain } from './tim-plain.ts';

const url = (hash: string): string => `https://chat.example/api/v1/media/${hash}`;
const HASH = 'a'.repeat(64);

describe('fromTimPlain', () => {
  it('reads a text, a face, a location and a custom element', () => {
    expect(fromTimPlain({ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } })).toEqual({ type: 'text', text: 'hi' });
    expect(fromTimPlain({ MsgType: 'TIMFaceElem', MsgContent: { Index: 3, Data: 'cats' } })).toEqual({ type: 'face', pack: 'cats', index: 3 });
    expect(fromTimPlain({ MsgType: 'TIMLocationElem', MsgContent: { Desc: 'Home', Latitude: 48.85, Longitude: 2.35 } })).toEqual({ type: 'location', caption: 'Home', latitude: 48.85, longitude: 2.35 });
    expect(fromTimPlain({ MsgType: 'TIMCustomElem', MsgContent: { Data: '{"a":1}', Desc: 'A card', Ext: 'card' } })).toEqual({ type: 'custom', kind: 'card', data: '{"a":1}', description: 'A card' });
  });

  it('fills in what the hosted format leaves out: the face pack, the caption, the custom kind and description', () => {
    expect(fromTimPlain({ MsgType: 'TIMFaceElem', MsgContent: { Index: 0 } })).toEqual({ type: 'face', pack: 'compat', index: 0 });
    expect(fromTimPlain({ MsgType: 'TIMLocationElem', MsgContent: { Latitude: 0, Longitude: 0 } })).toEqual({ type: 'location', caption: '', latitude: 0, longitude: 0 });
    expect(fromTimPlain({ MsgType: 'TIMCustomElem', MsgContent: { Data: 'x', Ext: 'Not A Kind!' } })).toEqual({ type: 'custom', kind: 'compat', data: 'x', description: '' });
    expect(fromTimPlain({ MsgType: 'TIMCustomElem', MsgContent: {} })).toEqual({ type: 'custom', kind: 'compat', data: '', description: '' });
  });

  it('reads a custom element marked parley:system back as a notice, and an unreadable one as a custom notice', () => {
    expect(fromTimPlain({ MsgType: 'TIMCustomElem', MsgContent: { Data: '{"kind":"friend-added","title":"New friend"}', Desc: 'You are friends now', Ext: 'parley:system' } })).toEqual({
      type: 'system',
      kind: 'friend-added',
      title: 'New friend',
      text: 'You are friends now',
    });
    expect(fromTimPlain({ MsgType: 'TIMCustomElem', MsgContent: { Data: 'not json', Desc: 'Maintenance tonight', Ext: 'parley:system' } })).toEqual({ type: 'system', kind: 'custom', text: 'Maintenance tonight' });
  });

  it('gives null for media elements: their bytes must be fetched first', () => {
    const media: TimElem[] = [
      { MsgType: 'TIMImageElem', MsgContent: { ImageInfoArray: [{ Type: 1, URL: 'https://x.example/a.jpg' }] } },
      { MsgType: 'TIMSoundElem', MsgContent: { Url: 'https://x.example/a.m4a', Second: 3 } },
      { MsgType: 'TIMFileElem', MsgContent: { Url: 'https://x.example/a.pdf', FileName: 'a.pdf' } },
      { MsgType: 'TIMVideoFileElem', MsgContent: { VideoUrl: 'https://x.example/a.mp4', VideoSecond: 2, ThumbUrl: 'https://x.example/a.jpg' } },
    ];
    for (const e of media) expect(fromTimPlain(e), e.MsgType).toBeNull();
  });

  it('round-trips every element without media through toTimBody, each a valid Parley element', () => {
    const body: Element[] = [
      { type: 'text', text: 'hello' },
      { type: 'face', pack: 'cats', index: 7 },
      { type: 'location', caption: 'Café', latitude: -33.86, longitude: 151.2 },
      { type: 'custom', kind: 'red-packet', data: '{"amount":5}', description: 'A red packet' },
      { type: 'system', kind: 'custom', title: 'Notice', text: 'Maintenance tonight' },
      { type: 'system', kind: 'message-recalled', text: 'A message was recalled' },
    ];
    const back = toTimBody(body, url).map(fromTimPlain);
    expect(back).toEqual(body);
    for (const e of back) expect(Element.safeParse(e).success).toBe(true);
  });

  it('gives null for the media of a Parley body in the hosted format', () => {
    const picture = { media: { hash: HASH, size: 10, mime: 'image/png' }, width: 1, height: 1 };
    const [image] = toTimBody([{ type: 'image', format: 'png', original: picture, thumbnail: picture }], url);
    expect(image === undefined ? undefined : fromTimPlain(image)).toBeNull();
  });
});
