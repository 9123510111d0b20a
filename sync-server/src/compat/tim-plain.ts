/**
 * The hosted service's elements back into Parley's, for those that carry no
 * media: a text, a face, a location, a custom element (and Parley's own
 * system notices, which tim-body.ts sends as custom elements marked
 * `parley:system`). A media element names bytes at a URL, which only a
 * fetch can turn into an upload here: null, for the caller to refuse or
 * fetch (`/v4/` sends fetch; a before-send rewrite refuses).
 *
 * What comes out is shaped like Parley's elements, not yet judged by them:
 * the caller checks the message it builds (schemas, body size).
 */
import { CustomElement, type Element, SystemKind } from '@parley/protocol';
import { type TimElem } from '@parley/protocol/compat';
import { SYSTEM_EXT } from './tim-body.ts';

/** Where a face comes from when the hosted element names no pack (its `Data` is optional there). */
const COMPAT_PACK = 'compat';
/** The custom kind of a custom element whose `Ext` is no valid Parley kind. */
const COMPAT_KIND = 'compat';

export function fromTimPlain(e: TimElem): Element | null {
  switch (e.MsgType) {
    case 'TIMTextElem':
      return { type: 'text', text: e.MsgContent.Text };
    case 'TIMFaceElem':
      return { type: 'face', pack: e.MsgContent.Data === undefined || e.MsgContent.Data === '' ? COMPAT_PACK : e.MsgContent.Data, index: e.MsgContent.Index };
    case 'TIMLocationElem':
      return { type: 'location', caption: e.MsgContent.Desc ?? '', latitude: e.MsgContent.Latitude, longitude: e.MsgContent.Longitude };
    case 'TIMCustomElem': {
      const { Data, Desc, Ext } = e.MsgContent;
      if (Ext === SYSTEM_EXT) return systemOf(Data, Desc);
      const kind = Ext !== undefined && CustomElement.shape.kind.safeParse(Ext).success ? Ext : COMPAT_KIND;
      return { type: 'custom', kind, data: Data ?? '', description: Desc ?? '' };
    }
    case 'TIMImageElem':
    case 'TIMSoundElem':
    case 'TIMFileElem':
    case 'TIMVideoFileElem':
      return null;
  }
}

/** A notice as tim-body.ts wrote it: `Data` the JSON of its kind and title, `Desc` its text; anything else is a custom notice. */
function systemOf(data: string | undefined, desc: string | undefined): Element {
  let head: { kind?: unknown; title?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(data ?? '{}');
    if (typeof parsed === 'object' && parsed !== null) head = parsed;
  } catch {
    // Not Parley's JSON: a custom notice with the text alone.
  }
  const kind = SystemKind.safeParse(head.kind);
  return {
    type: 'system',
    kind: kind.success ? kind.data : 'custom',
    ...(typeof head.title === 'string' ? { title: head.title } : {}),
    text: desc ?? '',
  };
}
