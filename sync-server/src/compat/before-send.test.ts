/** BeforeSend against a real HTTP receiver on 127.0.0.1: how each answer becomes a verdict. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@parley/protocol';
import { createLog } from '../log.ts';
import { BeforeSend } from './before-send.ts';
import { CallbackCaller } from './callback-http.ts';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Asks a receiver that answers every call with `answer`, with failing open or closed. */
async function askWith(answer: unknown, message: Message, failClosed = false) {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const caller = new CallbackCaller({ url: `${origin}/cb`, allow: [origin], token: null }, 1400000000);
  const beforeSend = new BeforeSend({ timeoutMs: 2000, failClosed }, caller, (hash) => `https://chat.example/api/v1/media/${hash}`, createLog('silent'));
  return beforeSend.ask(message, 7);
}

const HASH = 'b'.repeat(64);
const text = (t: string): Message => ({ id: 'msg1', from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: t }], ts: Date.now(), profile: { nickname: 'Alice' } });
const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };

describe('BeforeSend.ask', () => {
  it('sends on ErrorCode 0, and on an echo of the body as it was sent (keeping what the hosted format lacks)', async () => {
    expect(await askWith(OK, text('hi'))).toEqual({ verdict: 'send' });
    const withPreview: Message = { ...text('see https://x.example'), body: [{ type: 'text', text: 'see https://x.example', preview: { url: 'https://x.example', title: 'X' } }] };
    expect(await askWith({ ...OK, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'see https://x.example' } }] }, withPreview)).toEqual({ verdict: 'send' });
  });

  it('rewrites, keeping an element the backend left as it was (media too) and retyping the message when its type is gone', async () => {
    const picture = { media: { hash: HASH, size: 3, mime: 'image/png' }, width: 1, height: 1 };
    const photo: Message = { ...text(''), type: 'image', body: [{ type: 'image', format: 'png', original: picture, thumbnail: picture }, { type: 'text', text: 'darn' }] };
    const sentImage = {
      MsgType: 'TIMImageElem',
      MsgContent: {
        UUID: HASH,
        ImageFormat: 3,
        ImageInfoArray: [1, 2, 3].map((Type) => ({ Type, Size: 3, Width: 1, Height: 1, URL: `https://chat.example/api/v1/media/${HASH}` })),
      },
    };
    expect(await askWith({ ...OK, MsgBody: [sentImage, { MsgType: 'TIMTextElem', MsgContent: { Text: '****' } }] }, photo)).toEqual({
      verdict: 'send',
      body: [photo.body[0], { type: 'text', text: '****' }],
    });
    expect(await askWith({ ...OK, MsgBody: [{ MsgType: 'TIMFaceElem', MsgContent: { Index: 2 } }] }, text('hi'))).toEqual({ verdict: 'send', body: [{ type: 'face', pack: 'compat', index: 2 }] });
  });

  it("refuses on ErrorCode 1 and 120001-130000 with the backend's words (or Parley's), and drops on 2", async () => {
    expect(await askWith({ ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: 'No.' }, text('x'))).toMatchObject({ verdict: 'refuse', code: 'callback-refused', message: 'No.', backendCode: 1 });
    expect(await askWith({ ActionStatus: 'OK', ErrorCode: 120_042, ErrorInfo: '' }, text('x'))).toMatchObject({ verdict: 'refuse', code: 'callback-refused', message: "The app's server did not accept this message.", backendCode: 120_042 });
    expect(await askWith({ ActionStatus: 'OK', ErrorCode: 2, ErrorInfo: '' }, text('x'))).toEqual({ verdict: 'drop' });
  });

  it('takes a rewrite it cannot use (new media, a system notice, a schema or size refusal) and any other answer as none: open sends, closed refuses', async () => {
    const unusable = [
      { ...OK, MsgBody: [{ MsgType: 'TIMImageElem', MsgContent: { ImageInfoArray: [{ Type: 1, URL: 'https://x.example/a.png' }] } }] },
      { ...OK, MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Desc: 'Notice', Ext: 'parley:system' } }] },
      { ...OK, MsgBody: [] },
      { ...OK, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x'.repeat(13 * 1024) } }] },
      { ...OK, MsgBody: [{ MsgType: 'TIMNopeElem', MsgContent: {} }] },
      { ActionStatus: 'OK', ErrorCode: 5, ErrorInfo: '' },
      { ActionStatus: 'OK' },
      'not json',
    ];
    for (const answer of unusable) {
      expect(await askWith(answer, text('hi')), JSON.stringify(answer).slice(0, 80)).toEqual({ verdict: 'send' });
      expect(await askWith(answer, text('hi'), true)).toMatchObject({ verdict: 'refuse', code: 'callback-unavailable' });
    }
  });
});
