/**
 * The hosted format's elements that carry no media, as Parley elements
 * (provisional: the before-send work brings the full version).
 */
import type { Element, TimElem } from '@parley/protocol';
import { SYSTEM_EXT } from './tim-body.ts';

const KIND = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function fromTimPlain(elem: TimElem): Element | null {
  switch (elem.MsgType) {
    case 'TIMTextElem':
      return { type: 'text', text: elem.MsgContent.Text };
    case 'TIMFaceElem':
      return { type: 'face', pack: elem.MsgContent.Data || 'compat', index: elem.MsgContent.Index };
    case 'TIMLocationElem':
      return { type: 'location', caption: elem.MsgContent.Desc ?? '', latitude: elem.MsgContent.Latitude, longitude: elem.MsgContent.Longitude };
    case 'TIMCustomElem': {
      const c = elem.MsgContent;
      if (c.Ext === SYSTEM_EXT) {
        const meta = JSON.parse(c.Data ?? '{}') as { kind?: 'friend-added' | 'message-recalled' | 'custom'; title?: string };
        return { type: 'system', kind: meta.kind ?? 'custom', text: c.Desc ?? '', ...(meta.title === undefined ? {} : { title: meta.title }) };
      }
      return { type: 'custom', kind: c.Ext !== undefined && KIND.test(c.Ext) ? c.Ext : 'compat', data: c.Data ?? '', description: c.Desc ?? '' };
    }
    default:
      return null;
  }
}
