/**
 * The payload a device receives (`PushPayload` in @parley/protocol). It is
 * built once per message with every field and cut per device as it is sent:
 * with previews off it carries no text at all (no preview, no body: a file
 * name or a custom message's description is text too); then the avatar, the
 * body and the preview are dropped in turn until the JSON fits
 * PUSH_PAYLOAD_MAX bytes.
 */
import { previewOf, PUSH_PAYLOAD_MAX, type Message, type ProfileEntry, type PushPayload } from '@parley/protocol';

export interface PayloadFacts {
  /** The conversation document (segment) the message is in. */
  doc: string;
  message: Message;
  seq: number;
  /** The sender's profile as the server knows it (not as the message claims it). */
  sender: ProfileEntry;
  /** The recipient's unread count over all conversations. */
  unread: number;
}

/** Every field, for a new message or for the recall of one (which carries no text). */
export function fullPayload(kind: PushPayload['kind'], { doc, message, seq, sender, unread }: PayloadFacts): PushPayload {
  return {
    v: 1,
    kind,
    peer: message.from,
    doc,
    sender: { id: message.from, nickname: sender.nickname, ...(sender.avatar === undefined ? {} : { avatar: sender.avatar }) },
    message: {
      id: message.id,
      seq,
      ts: message.ts,
      type: message.type,
      ...(kind === 'message' ? { preview: previewOf(message), body: message.body } : {}),
    },
    unread,
    ...(kind === 'message' && (message.push?.title !== undefined || message.push?.text !== undefined) ? { show: { title: message.push?.title, text: message.push?.text } } : {}),
    ...(message.push?.ttl === undefined ? {} : { ttl: message.push.ttl }),
  };
}

const bytes = (payload: PushPayload): number => Buffer.byteLength(JSON.stringify(payload));

const withoutAvatar = (p: PushPayload): PushPayload => ({ ...p, sender: { id: p.sender.id, nickname: p.sender.nickname } });
const withoutBody = (p: PushPayload): PushPayload => {
  const { body: _body, ...message } = p.message;
  return { ...p, message };
};
const withoutPreview = (p: PushPayload): PushPayload => {
  const { preview: _preview, ...message } = p.message;
  // A chosen text is a preview too; a chosen title stays (the sender's name would show anyway).
  const show = p.show?.title === undefined ? undefined : { title: p.show.title };
  const { show: _show, ...rest } = p;
  return { ...rest, message, ...(show === undefined ? {} : { show }) };
};

/** The JSON one device gets, or null if even the bare payload is over the limit (it cannot be, with the id and nickname limits). */
export function payloadFor(full: PushPayload, previews: boolean): string | null {
  let payload = previews ? full : withoutPreview(withoutBody(full));
  for (const cut of [withoutAvatar, withoutBody, withoutPreview]) {
    if (bytes(payload) <= PUSH_PAYLOAD_MAX) return JSON.stringify(payload);
    payload = cut(payload);
  }
  return bytes(payload) <= PUSH_PAYLOAD_MAX ? JSON.stringify(payload) : null;
}
