import { describe, expect, it } from 'vitest';
import { PUSH_PAYLOAD_MAX, PushPayload, type Message } from '@parley/protocol';
import { fullPayload, payloadFor } from './payload.ts';

const message = (body: Message['body'], type: Message['type'] = 'text'): Message => ({
  id: 'm1',
  from: 'alice',
  to: 'bob',
  type,
  body,
  ts: 1_700_000_000_000,
  profile: { nickname: 'Alice (as her device says)' },
});

const facts = (m: Message, avatar?: string) => ({
  doc: 'c2c/alice/bob/2023-11',
  message: m,
  seq: 7,
  sender: { id: 'alice', nickname: 'Alice', ...(avatar === undefined ? {} : { avatar }) },
  unread: 3,
});

const parsed = (json: string | null): PushPayload => PushPayload.parse(JSON.parse(json ?? 'null'));

describe('push payloads', () => {
  it('carries the sender, the conversation, the message with its preview and body, and the unread count', () => {
    const m = message([{ type: 'text', text: 'hi' }]);
    expect(parsed(payloadFor(fullPayload('message', facts(m, 'https://a.example/a.png')), true))).toEqual({
      v: 1,
      kind: 'message',
      peer: 'alice',
      doc: 'c2c/alice/bob/2023-11',
      sender: { id: 'alice', nickname: 'Alice', avatar: 'https://a.example/a.png' },
      message: { id: 'm1', seq: 7, ts: m.ts, type: 'text', preview: 'hi', body: m.body },
      unread: 3,
    });
  });

  it('carries no text with previews off: no preview, no body (file names and descriptions included)', () => {
    const m = message(
      [
        { type: 'file', media: { hash: 'a'.repeat(64), size: 10, mime: 'application/pdf' }, name: 'salaries.pdf' },
        { type: 'custom', kind: 'poll', data: {}, description: 'Vote on the layoffs' },
      ],
      'file',
    );
    const json = payloadFor(fullPayload('message', facts(m)), false);
    expect(parsed(json).message).toEqual({ id: 'm1', seq: 7, ts: m.ts, type: 'file' });
    expect(json).not.toMatch(/salaries|layoffs/);
  });

  it('drops the avatar first, then the body, then the preview, until it fits', () => {
    const big = 'x'.repeat(PUSH_PAYLOAD_MAX);
    const small = message([{ type: 'text', text: 'short' }]);
    const noAvatar = parsed(payloadFor(fullPayload('message', facts(small, `data:image/png;base64,${big}`)), true));
    expect(noAvatar.sender.avatar).toBeUndefined();
    expect(noAvatar.message.body).toEqual(small.body);

    const long = message([{ type: 'text', text: big }]);
    const noBody = parsed(payloadFor(fullPayload('message', facts(long, 'https://a.example/a.png')), true));
    expect(noBody.sender.avatar).toBeUndefined();
    expect(noBody.message.body).toBeUndefined();
    expect(noBody.message.preview).toHaveLength(120);

    for (const json of [payloadFor(fullPayload('message', facts(long, `data:,${big}`)), true), payloadFor(fullPayload('message', facts(long)), false)]) {
      expect(Buffer.byteLength(json ?? '')).toBeLessThanOrEqual(PUSH_PAYLOAD_MAX);
    }
  });

  it("carries the title, text and lifetime the sender's backend chose; with previews off the text goes, the title stays", () => {
    const m = { ...message([{ type: 'text', text: 'hi' }]), push: { title: 'Order 42', text: 'On its way', ttl: 60 } };
    const full = fullPayload('message', facts(m));
    expect(parsed(payloadFor(full, true))).toMatchObject({ show: { title: 'Order 42', text: 'On its way' }, ttl: 60 });
    const bare = parsed(payloadFor(full, false));
    expect(bare.show).toEqual({ title: 'Order 42' });
    expect(JSON.stringify(bare)).not.toContain('On its way');
  });

  it('announces a recall with no text', () => {
    const m = message([{ type: 'text', text: 'oops' }]);
    const recall = parsed(payloadFor(fullPayload('recall', facts(m)), true));
    expect(recall.kind).toBe('recall');
    expect(recall.message).toEqual({ id: 'm1', seq: 7, ts: m.ts, type: 'text' });
  });
});
