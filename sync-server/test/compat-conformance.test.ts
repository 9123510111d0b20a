/**
 * The `/v4/` conformance suite: the request and answer pairs of
 * test/compat/conformance.json, written from the hosted service's documented
 * samples, replayed in order against a real server (SQLite, real HTTP),
 * with media served by a real HTTP server on 127.0.0.1 that the server is
 * told to trust (PARLEY_COMPAT_MEDIA_ALLOW). Then what the calls did is
 * checked where it shows: the stored messages, the recall, the push options.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startServer, type TestServer } from './helpers.ts';
import { hostedUserSig } from './hosted-usersig.ts';

const APP_ID = 1400000000;
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

/** The hosted service's published v2 algorithm, written apart from the server's (hosted-usersig.ts). */
const userSig = (identifier: string, { key = KEY, expire = 86400, time = Math.floor(Date.now() / 1000) } = {}): string =>
  hostedUserSig({ sdkAppId: APP_ID, secretKey: key, identifier, expire, time });

interface Case {
  title: string;
  call: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  usersig?: 'expired' | 'forged' | 'garbage' | 'other-identifier';
  sdkappid?: number;
  identifier?: string;
  answer: unknown;
  save?: string;
}

const suite = JSON.parse(readFileSync(new URL('./compat/conformance.json', import.meta.url), 'utf8')) as { cases: Case[] };

const icon = (name: string): Buffer => readFileSync(new URL(`../../web/public/icons/${name}`, import.meta.url));
const FILES: Record<string, { type: string; bytes: Buffer }> = {
  '/picture.png': { type: 'image/png', bytes: icon('icon-512.png') },
  '/thumb.png': { type: 'image/png', bytes: icon('icon-192.png') },
  '/voice.m4a': { type: 'audio/mp4', bytes: Buffer.alloc(6000, 7) },
  '/notes.txt': { type: 'text/plain', bytes: Buffer.from('trip notes\n'.repeat(100)) },
  '/clip.mp4': { type: 'video/mp4', bytes: Buffer.alloc(20000, 3) },
};

let server: TestServer;
let media: Server;
let mediaOrigin = '';
const fetched: string[] = [];
const saved = new Map<string, string>();

beforeAll(async () => {
  media = createServer((request, response) => {
    fetched.push(request.url ?? '');
    const file = FILES[request.url ?? ''];
    if (file === undefined) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': file.type, 'content-length': file.bytes.length }).end(file.bytes);
  });
  await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
  mediaOrigin = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
  server = await startServer({ env: { PARLEY_COMPAT_SDKAPPID: String(APP_ID), PARLEY_COMPAT_SECRET_KEY: KEY, PARLEY_COMPAT_MEDIA_ALLOW: mediaOrigin } });
});

afterAll(async () => {
  await cleanup();
  await new Promise((resolve) => media.close(resolve));
});

/** The case's JSON with its placeholders filled in. */
function fill(value: unknown): unknown {
  const now = Math.floor(Date.now() / 1000);
  if (typeof value === 'string') {
    const accounts = /^\{\{(\d+) accounts\}\}$/.exec(value);
    if (accounts !== null) return Array.from({ length: Number(accounts[1]) }, (_, i) => `user${i}`);
    const chars = /^\{\{(\d+) characters\}\}$/.exec(value);
    if (chars !== null) return 'x'.repeat(Number(chars[1]));
    const time = /^\{\{now([+-]\d+)?\}\}$/.exec(value);
    if (time !== null) return now + Number(time[1] ?? 0);
    const key = /^\{\{(\w+)\}\}$/.exec(value);
    if (key?.[1] !== undefined && saved.has(key[1])) return saved.get(key[1]);
    return value.replace('{{media}}', mediaOrigin);
  }
  if (Array.isArray(value)) return value.map(fill);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
  return value;
}

/** Whether `actual` matches the documented `expected`: wildcards for values that vary, exactly the keys written. */
function mismatch(expected: unknown, actual: unknown, at = 'answer'): string | null {
  if (expected === '<any>') return null;
  if (expected === '<string>') return typeof actual === 'string' ? null : `${at}: a string, got ${JSON.stringify(actual)}`;
  if (expected === '<int>') return Number.isInteger(actual) ? null : `${at}: an integer, got ${JSON.stringify(actual)}`;
  if (expected === '<msgkey>') return typeof actual === 'string' && actual.length > 0 ? null : `${at}: a MsgKey, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${at}: ${expected.length} items, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${at}[${i}]`);
      if (m !== null) return m;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${at}: an object, got ${JSON.stringify(actual)}`;
    const want = Object.keys(expected).sort();
    const got = Object.keys(actual).sort();
    if (want.join() !== got.join()) return `${at}: keys ${want.join(', ')}, got ${got.join(', ')}`;
    for (const k of want) {
      const m = mismatch((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k], `${at}.${k}`);
      if (m !== null) return m;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${at}: ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

async function call(c: Case): Promise<{ status: number; body: unknown }> {
  const identifier = c.identifier ?? 'administrator';
  const sig = {
    expired: () => userSig(identifier, { time: Math.floor(Date.now() / 1000) - 1000, expire: 100 }),
    forged: () => userSig(identifier, { key: 'another key, not the app one' }),
    garbage: () => 'eJyrVkrLz1eyUkpKLFKqBQAvKQWd',
    'other-identifier': () => userSig('someone-else'),
  }[c.usersig ?? 'expired'];
  const query = new URLSearchParams({
    sdkappid: String(c.sdkappid ?? APP_ID),
    identifier,
    usersig: c.usersig === undefined ? userSig(identifier) : sig(),
    random: String(Math.floor(Math.random() * 4294967295)),
    contenttype: 'json',
  });
  const response = await fetch(`${server.url}/v4/${c.call}?${query.toString()}`, {
    method: 'POST',
    headers: { 'content-type': c.contentType ?? 'application/json' },
    body: c.raw ?? JSON.stringify(fill(c.body)),
  });
  return { status: response.status, body: await response.json() };
}

describe('the /v4/ surface answers the hosted service documentation samples', () => {
  for (const c of suite.cases) {
    it(c.title, async () => {
      const { status, body } = await call(c);
      expect(status, 'the hosted service answers HTTP 200, success or not').toBe(200);
      expect(mismatch(fill(c.answer), body)).toBeNull();
      if (c.save !== undefined) saved.set(c.save, (body as { MsgKey: string }).MsgKey);
    });
  }
});

describe('what the replayed calls did', () => {
  const roam = async (min: number, max: number) =>
    (await call({ title: '', call: 'openim/admin_getroammsg', body: { Operator_Account: 'lumotuwe2', Peer_Account: 'lumotuwe1', MaxCnt: 100, MinTime: min, MaxTime: max }, answer: null })).body as {
      MsgList: { MsgKey: string; MsgFlagBits: number; MsgRandom: number; From_Account: string; MsgBody: { MsgType: string; MsgContent: Record<string, unknown> }[] }[];
    };

  it('stored each message once, the modified text modified, the recalled image recalled, the media fetched once each', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { MsgList } = await roam(now - 3600, now + 60);
    const texts = MsgList.filter((m) => m.MsgBody[0]?.MsgType === 'TIMTextElem').map((m) => m.MsgBody[0]?.MsgContent.Text);
    // The de-duplicated retry is no second message; the batch's copy to lumotuwe2 (twice: the second batch) and the live import are.
    expect(texts.filter((t) => t === 'hi, beauty (modified)')).toHaveLength(1);
    const image = MsgList.find((m) => m.MsgKey === saved.get('image'));
    expect(image?.MsgFlagBits).toBe(2);
    expect(image?.MsgBody).toEqual([]);
    const media = MsgList.find((m) => m.MsgBody.some((e) => e.MsgType === 'TIMVideoFileElem'));
    expect(media?.MsgBody.map((e) => e.MsgType)).toEqual(['TIMSoundElem', 'TIMFileElem', 'TIMVideoFileElem']);
    expect(media?.MsgBody[1]?.MsgContent).toMatchObject({ FileName: 'file:///private/var/Application/notes.txt', FileSize: FILES['/notes.txt']?.bytes.length });
    expect(String(media?.MsgBody[0]?.MsgContent.Url)).toMatch(/^\/api\/v1\/media\/[0-9a-f]{64}$/);
    expect(fetched.filter((u) => u === '/picture.png')).toHaveLength(1);
    expect(MsgList.find((m) => m.MsgKey === saved.get('text'))?.MsgRandom).toBe(1287657);

    // A URL on Parley's own media path is the file it names: sent again without a fetch.
    const voiceUrl = String(media?.MsgBody[0]?.MsgContent.Url);
    const before = fetched.length;
    const again = await call({ title: '', call: 'openim/sendmsg', answer: null, body: { From_Account: 'lumotuwe1', To_Account: 'test1', MsgRandom: 99, MsgBody: [{ MsgType: 'TIMSoundElem', MsgContent: { Url: `${server.url}${voiceUrl}`, Second: 1 } }] } });
    expect(again.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    expect(fetched.length).toBe(before);
  });

  it('made the imported FaceUrl the avatar, served from Parley', async () => {
    const signIn = await fetch(`${server.url}/api/v1/auth/usersig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'lumotuwe1', usersig: userSig('lumotuwe1'), device: 'test' }) });
    const { accessToken } = (await signIn.json()) as { accessToken: string };
    const profile = async (id: string) => (await (await fetch(`${server.url}/api/v1/users/${id}`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as { avatar?: string };
    expect((await profile('test-face')).avatar).toMatch(/^\/api\/v1\/media\/[0-9a-f]{64}$/);
    expect((await profile('test-noface')).avatar).toBeUndefined();
    expect(fetched.filter((u) => u === '/missing.png')).toHaveLength(1);
  });
});
