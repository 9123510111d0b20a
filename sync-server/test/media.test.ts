/** Uploads and media against a real server on port 0, with real HTTP and real sync clients. */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  conversationPath,
  MEDIA_COOKIE,
  MEDIA_LIMITS,
  mediaUrl,
  UPLOAD_CHUNK_BYTES,
  type Element,
  type MediaRef,
  type Session,
} from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, send, signUp, startServer, synced, thisSegment, waitFor, type TestServer } from './helpers.ts';
import { getMedia, MediaClient, sha256, streamTo, generated } from './media-client.ts';

afterEach(cleanup);

const MB = 1024 * 1024;

async function setup() {
  const server = await startServer();
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const carol = await signUp(server.url, 'carol');
  return { server, alice, bob, carol, media: new MediaClient(server.url, alice.accessToken) };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

const imageOf = (ref: MediaRef): Element => ({ type: 'image', format: 'png', original: { media: ref, width: 10, height: 10 }, thumbnail: { media: ref, width: 5, height: 5 } });

/** Alice sends bob a message with `element` over a real sync socket, and waits for its ack. */
async function sendOver(server: TestServer, alice: Session, element: Element): Promise<void> {
  const conv = openDoc(server, conversationPath('alice', 'bob', thisSegment()), alice.accessToken);
  await synced(conv);
  const m = message('alice', 'bob', '', { type: element.type, body: [element] });
  send(conv, m);
  await waitFor(() => acks(conv).includes(m.id), 'ack');
  conv.destroy();
}

/** The media cookie a Session answer set, as a Cookie header. */
async function cookieOf(server: TestServer, user: string): Promise<string> {
  const response = await fetch(`${server.url}${API_PREFIX}/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: 'correct horse', device: 'browser' }),
  });
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

describe('uploads', () => {
  it('uploads an image in chunks and serves it back byte-identical with safe headers', async () => {
    const { server, alice, media } = await setup();
    const bytes = randomBytes(2 * UPLOAD_CHUNK_BYTES + 12345);
    const created = await media.create(bytes, { kind: 'image', peer: 'bob', mime: 'image/png', name: 'cat.png' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String) as string, size: bytes.length, received: 0, chunkSize: UPLOAD_CHUNK_BYTES });
    const id = created.body.id;
    for (let at = 0; at < bytes.length; at += UPLOAD_CHUNK_BYTES) {
      const put = await media.put(id, at, bytes.subarray(at, at + UPLOAD_CHUNK_BYTES));
      expect(put.status).toBe(200);
      expect(put.body.received).toBe(Math.min(at + UPLOAD_CHUNK_BYTES, bytes.length));
      expect(put.headers.get('upload-offset')).toBe(String(put.body.received));
    }
    const done = await media.complete(id);
    expect(done.status).toBe(200);
    const hash = sha256(bytes);
    expect(done.body).toEqual({ media: { hash, size: bytes.length, mime: 'image/png' }, url: mediaUrl(hash) });

    const got = await getMedia(server.url, hash, { token: alice.accessToken });
    expect(got.status).toBe(200);
    expect(Buffer.from(got.bytes).equals(bytes)).toBe(true);
    expect(Object.fromEntries(got.headers)).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(bytes.length),
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'content-disposition': "inline; filename*=UTF-8''cat.png",
      etag: `"${hash}"`,
      'cache-control': 'private, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
    });
    expect((await getMedia(server.url, hash, { token: alice.accessToken }, { 'if-none-match': `"${hash}"` })).status).toBe(304);
    const head = await fetch(`${server.url}${mediaUrl(hash)}`, { method: 'HEAD', headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    // The upload is gone once complete.
    expect((await media.status(id)).body.error?.code).toBe('upload-not-found');
  });

  it('serves byte ranges of a voice message and a video, and refuses ranges outside them', async () => {
    const { server, alice, media } = await setup();
    const voice = randomBytes(300_000);
    const { media: ref } = await media.upload(voice, { kind: 'voice', peer: 'bob', mime: 'audio/ogg' });
    const token = { token: alice.accessToken };
    const part = await getMedia(server.url, ref.hash, token, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${voice.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.headers.get('content-type')).toBe('audio/ogg');
    expect(Buffer.from(part.bytes).equals(voice.subarray(100, 200))).toBe(true);
    const tail = await getMedia(server.url, ref.hash, token, { range: 'bytes=-50' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(tail.bytes).equals(voice.subarray(voice.length - 50))).toBe(true);
    const outside = await getMedia(server.url, ref.hash, token, { range: `bytes=${voice.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${voice.length}`);
    expect(outside.json?.error?.code).toBe('range-not-satisfiable');

    const video = randomBytes(UPLOAD_CHUNK_BYTES + 1000);
    const { media: clip } = await media.upload(video, { kind: 'video', peer: 'bob', mime: 'video/mp4' });
    const seek = await getMedia(server.url, clip.hash, token, { range: `bytes=${UPLOAD_CHUNK_BYTES}-` });
    expect(seek.status).toBe(206);
    expect(seek.headers.get('content-range')).toBe(`bytes ${UPLOAD_CHUNK_BYTES}-${video.length - 1}/${video.length}`);
    expect(Buffer.from(seek.bytes).equals(video.subarray(UPLOAD_CHUNK_BYTES))).toBe(true);
  });

  it('refuses a declared size over the kind\'s limit at once, and a peer that is not a user', async () => {
    const { media } = await setup();
    const tooBig = await fetch(`${media.url}${API_PREFIX}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${media.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'image', peer: 'bob', size: MEDIA_LIMITS.image + 1, mime: 'image/jpeg', sha256: 'a'.repeat(64) }),
    });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'media-too-large', message: expect.stringContaining('28 MB') as string });
    const bytes = randomBytes(10);
    expect((await media.create(bytes, { kind: 'file', peer: 'nobody', mime: 'text/plain' })).body.error?.code).toBe('user-not-found');
    expect((await media.create(bytes, { kind: 'file', peer: 'alice', mime: 'text/plain' })).status).toBe(400);
  });

  it('refuses a chunk that passes the declared size, at once when its length says so and while it streams when not', async () => {
    const { server, alice, media } = await setup();
    const bytes = randomBytes(100_000);
    const { body: created } = await media.create(bytes, { kind: 'file', peer: 'bob', mime: 'application/pdf' });
    // A declared Content-Length over what remains: refused before a byte is read.
    const declared = await media.put(created.id, 0, randomBytes(100_001));
    expect(declared.status).toBe(413);
    expect(declared.body.error?.code).toBe('upload-too-large');
    expect(declared.headers.get('upload-offset')).toBe('0');
    // A chunked body: counted as it arrives, refused at the byte that passes the size.
    const answer = await new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      const req = httpRequest(`${server.url}${API_PREFIX}/uploads/${created.id}?offset=0`, {
        method: 'PUT',
        agent: false,
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/octet-stream' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { error?: { code: string } }).error?.code }));
      });
      req.on('error', reject);
      generated(5 * MB).pipe(req);
    });
    expect(answer).toEqual({ status: 413, code: 'upload-too-large' });
    // What fitted is kept; the rest of the upload goes on from there.
    const held = (await media.status(created.id)).body.received;
    expect(held).toBeLessThanOrEqual(bytes.length);
  });

  it('refuses an offset other than what the server holds with 409 and the offset to resume from', async () => {
    const { media } = await setup();
    const bytes = randomBytes(3000);
    const { body: created } = await media.create(bytes, { kind: 'file', peer: 'bob', mime: 'text/plain' });
    expect((await media.put(created.id, 0, bytes.subarray(0, 1000))).status).toBe(200);
    const wrong = await media.put(created.id, 2000, bytes.subarray(2000));
    expect(wrong.status).toBe(409);
    expect(wrong.body.error?.code).toBe('upload-offset-mismatch');
    expect(wrong.headers.get('upload-offset')).toBe('1000');
    const early = await media.complete(created.id);
    expect(early.status).toBe(409);
    expect(early.body.error?.code).toBe('upload-incomplete');
  });

  it('resumes an upload cut at half from its status, sending each finished chunk once', async () => {
    const { server, alice, media } = await setup();
    const bytes = randomBytes(3 * UPLOAD_CHUNK_BYTES + UPLOAD_CHUNK_BYTES / 2);
    const { body: created } = await media.create(bytes, { kind: 'video', peer: 'bob', mime: 'video/webm' });
    expect((await media.put(created.id, 0, bytes.subarray(0, UPLOAD_CHUNK_BYTES))).status).toBe(200);

    // The second chunk: half of it goes out, then the connection drops.
    const half = UPLOAD_CHUNK_BYTES / 2;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${server.url}${API_PREFIX}/uploads/${created.id}?offset=${UPLOAD_CHUNK_BYTES}`, {
        method: 'PUT',
        agent: false,
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/octet-stream', 'content-length': String(UPLOAD_CHUNK_BYTES) },
      });
      req.on('error', () => resolve());
      req.write(bytes.subarray(UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES + half), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    media.sent += half;

    // What arrived of the cut chunk is kept (once the server has read it).
    let held = 0;
    for (const start = Date.now(); held <= UPLOAD_CHUNK_BYTES && Date.now() - start < 5000; ) {
      held = (await media.status(created.id)).body.received;
      if (held <= UPLOAD_CHUNK_BYTES) await new Promise((r) => setTimeout(r, 20));
    }
    expect(held).toBeGreaterThan(UPLOAD_CHUNK_BYTES);
    expect(held).toBeLessThanOrEqual(UPLOAD_CHUNK_BYTES + half);
    await media.resume(created.id, bytes);
    const done = await media.complete(created.id);
    expect(done.status).toBe(200);
    // Only (part of) the cut chunk may have gone twice.
    expect(media.sent).toBeLessThanOrEqual(bytes.length + UPLOAD_CHUNK_BYTES);
    const got = await getMedia(server.url, done.body.media.hash, { token: alice.accessToken });
    expect(Buffer.from(got.bytes).equals(bytes)).toBe(true);
  });

  it('resumes an upload after a server restart', async () => {
    const first = await startServer();
    const alice = await signUp(first.url, 'alice');
    await signUp(first.url, 'bob');
    const bytes = randomBytes(2 * UPLOAD_CHUNK_BYTES + 7);
    const before = new MediaClient(first.url, alice.accessToken);
    const { body: created } = await before.create(bytes, { kind: 'file', peer: 'bob', mime: 'application/zip', name: 'a.zip' });
    await before.put(created.id, 0, bytes.subarray(0, UPLOAD_CHUNK_BYTES));
    await first.parley.close();

    const second = await startServer({ dataDir: first.dataDir });
    const after = new MediaClient(second.url, alice.accessToken);
    expect((await after.status(created.id)).body).toEqual({ id: created.id, size: bytes.length, received: UPLOAD_CHUNK_BYTES, chunkSize: UPLOAD_CHUNK_BYTES });
    await after.resume(created.id, bytes);
    expect(after.sent).toBe(bytes.length - UPLOAD_CHUNK_BYTES);
    const done = await after.complete(created.id);
    expect(done.status).toBe(200);
    expect(Buffer.from((await getMedia(second.url, done.body.media.hash, { token: alice.accessToken })).bytes).equals(bytes)).toBe(true);
  });

  it('refuses bytes whose SHA-256 is not the declared one, and forgets the upload', async () => {
    const { media } = await setup();
    const bytes = randomBytes(5000);
    const { body: created } = await media.create(bytes, { kind: 'file', peer: 'bob', mime: 'text/plain', sha256: sha256(randomBytes(5000)) });
    await media.put(created.id, 0, bytes);
    const done = await media.complete(created.id);
    expect(done.status).toBe(422);
    expect(done.body.error?.code).toBe('hash-mismatch');
    expect((await media.status(created.id)).status).toBe(404);
  });

  it('returns stored media at once to whoever may read it, and takes the bytes again from anyone else', async () => {
    const { server, carol, media } = await setup();
    const bytes = randomBytes(50_000);
    const first = await media.upload(bytes, { kind: 'image', peer: 'bob', mime: 'image/jpeg' });
    const again = await media.create(bytes, { kind: 'image', peer: 'carol', mime: 'image/jpeg' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first);
    // Carol cannot read it: she proves she holds the bytes by sending them; one copy is kept.
    const asCarol = new MediaClient(server.url, carol.accessToken);
    const created = await asCarol.create(bytes, { kind: 'image', peer: 'alice', mime: 'image/jpeg' });
    expect(created.status).toBe(201);
    const done = await asCarol.upload(bytes, { kind: 'image', peer: 'alice', mime: 'image/jpeg' });
    expect(done).toEqual(first);
    expect(filesUnder(join(server.dataDir, 'media'))).toHaveLength(1);
    expect((await getMedia(server.url, first.media.hash, { token: carol.accessToken })).status).toBe(200);
  });

  it('cancels an upload', async () => {
    const { media } = await setup();
    const { body: created } = await media.create(randomBytes(10), { kind: 'file', peer: 'bob', mime: 'text/plain' });
    expect((await api(media.url, 'DELETE', `/uploads/${created.id}`, undefined, media.token)).status).toBe(200);
    expect((await media.status(created.id)).status).toBe(404);
    expect((await api(media.url, 'DELETE', `/uploads/${created.id}`, undefined, media.token)).status).toBe(404);
  });

  it('takes a one-shot upload of undeclared length', async () => {
    const { server, alice } = await setup();
    const streamed = await streamTo(server.url, '/media?kind=voice&peer=bob&mime=audio/webm', alice.accessToken, generated(3 * MB + 5));
    expect(streamed.status).toBe(201);
    const hash = (streamed.body as { media?: { hash: string } }).media?.hash ?? '';
    const got = await getMedia(server.url, hash, { token: alice.accessToken });
    expect(got.bytes.length).toBe(3 * MB + 5);
    expect(got.headers.get('content-type')).toBe('audio/webm');
  });
});

describe('media access', () => {
  it('lets the uploader and both members read media sent in a message, and nobody else', async () => {
    const { server, alice, bob, carol, media } = await setup();
    const { media: ref } = await media.upload(randomBytes(20_000), { kind: 'image', peer: 'bob', mime: 'image/webp' });
    expect((await getMedia(server.url, ref.hash, { token: alice.accessToken })).status).toBe(200);
    // Not sent yet: bob may not read it either.
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).json?.error?.code).toBe('media-not-found');

    await sendOver(server, alice, imageOf(ref));
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(200);
    // `<img>` sends the cookie instead of a header.
    expect((await getMedia(server.url, ref.hash, { cookie: await cookieOf(server, 'bob') })).status).toBe(200);
    const stranger = await getMedia(server.url, ref.hash, { token: carol.accessToken });
    expect(stranger.status).toBe(404);
    expect(stranger.json?.error?.code).toBe('media-not-found');
    expect(stranger.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await getMedia(server.url, ref.hash, { cookie: await cookieOf(server, 'carol') })).status).toBe(404);
    expect((await getMedia(server.url, ref.hash)).json?.error?.code).toBe('token-missing');
    // An unknown hash looks the same as one the caller may not read.
    expect((await getMedia(server.url, 'b'.repeat(64), { token: carol.accessToken })).json?.error?.code).toBe('media-not-found');
  });

  it('lets the members read media sent by the admin API as a user', async () => {
    const { server, bob, carol, media } = await setup();
    const { media: ref } = await media.upload(randomBytes(1000), { kind: 'voice', peer: 'carol', mime: 'audio/mpeg' });
    const sent = await api(server.url, 'POST', '/admin/messages', { from: 'alice', to: 'carol', type: 'voice', body: [{ type: 'voice', media: ref, duration: 1, format: 'mp3' }] }, server.config.adminKey);
    expect(sent.status).toBe(201);
    expect((await getMedia(server.url, ref.hash, { token: carol.accessToken })).status).toBe(200);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(404);
  });

  it('lets a message that outran its upload through once the upload completes', async () => {
    const { server, alice, bob, media } = await setup();
    const bytes = randomBytes(4000);
    const ref = { hash: sha256(bytes), size: bytes.length, mime: 'image/png' };
    await sendOver(server, alice, imageOf(ref));
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(404);
    await media.upload(bytes, { kind: 'image', peer: 'bob', mime: 'image/png' });
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(200);
  });

  it('grants nothing to a message naming a hash its sender may not read', async () => {
    const { server, alice, bob, carol } = await setup();
    const { media: ref } = await new MediaClient(server.url, carol.accessToken).upload(randomBytes(1000), { kind: 'image', peer: 'alice', mime: 'image/png' });
    await sendOver(server, alice, imageOf(ref));
    expect((await getMedia(server.url, ref.hash, { token: alice.accessToken })).status).toBe(404);
    expect((await getMedia(server.url, ref.hash, { token: bob.accessToken })).status).toBe(404);
  });

  it('stores a file named ../../x only under its hash and offers it under a sanitised name', async () => {
    const { server, alice, media } = await setup();
    const bytes = Buffer.from('just text\n');
    const { media: ref } = await media.upload(bytes, { kind: 'file', peer: 'bob', mime: 'text/plain', name: '../../x' });
    const hash = sha256(bytes);
    expect(filesUnder(join(server.dataDir, 'media'))).toEqual([join(hash.slice(0, 2), hash.slice(2, 4), hash)]);
    expect(filesUnder(server.dataDir).filter((f) => f.split(/[/\\]/).includes('x'))).toEqual([]);
    expect(filesUnder(join(server.dataDir, 'uploads'))).toEqual([]);
    const got = await getMedia(server.url, ref.hash, { token: alice.accessToken });
    expect(got.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''.._.._x");
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    // The name to offer may be given, and is sanitised the same way.
    const named = await getMedia(server.url, ref.hash, { token: alice.accessToken }, {}, `?name=${encodeURIComponent('a/b\u202E.txt')}`);
    expect(named.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''a_b.txt");
  });

  it('serves HTML declared text/html as an inert attachment', async () => {
    const { server, alice, media } = await setup();
    const html = Buffer.from('<!doctype html><script>fetch("/api/v1/me")</script>');
    const { media: ref } = await media.upload(html, { kind: 'file', peer: 'bob', mime: 'text/html', name: 'page.html' });
    expect(ref.mime).toBe('text/html');
    const got = await getMedia(server.url, ref.hash, { token: alice.accessToken });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''page.html");
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    // An "image" that is SVG (scriptable) is no better off.
    const { media: svg } = await media.upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'), { kind: 'image', peer: 'bob', mime: 'image/svg+xml' });
    const served = await getMedia(server.url, svg.hash, { token: alice.accessToken });
    expect(served.headers.get('content-type')).toBe('application/octet-stream');
    expect(served.headers.get('content-disposition')).toMatch(/^attachment;/);
  });
});

describe('the media cookie', () => {
  it('is set by sign-up, sign-in, app-token sign-in and refresh, for media only, and cleared by sign-out', async () => {
    const server = await startServer();
    const signup = await fetch(`${server.url}${API_PREFIX}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'dora', password: 'correct horse', device: 'd' }),
    });
    const session = (await signup.json()) as Session;
    const cookie = signup.headers.get('set-cookie') ?? '';
    const parts = cookie.split(';').map((p) => p.trim());
    expect(parts[0]).toBe(`${MEDIA_COOKIE}=${session.accessToken}`);
    expect(parts).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/api/v1/media']));
    const maxAge = Number(parts.find((p) => p.startsWith('Max-Age='))?.slice('Max-Age='.length));
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
    expect(parts).not.toContain('Secure');
    expect(await cookieOf(server, 'dora')).toMatch(new RegExp(`^${MEDIA_COOKIE}=`));

    const refresh = await fetch(`${server.url}${API_PREFIX}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ refreshToken: session.refreshToken, device: 'd' }),
    });
    const refreshed = refresh.headers.get('set-cookie') ?? '';
    expect(refreshed).toContain(`${MEDIA_COOKIE}=${((await refresh.json()) as Session).accessToken}`);
    expect(refreshed).toMatch(/; Secure$/);

    const { mintAppToken } = await import('../src/auth/tokens.ts');
    const appToken = await mintAppToken(server.config.appSecret, 'erin');
    const viaApp = await fetch(`${server.url}${API_PREFIX}/auth/app-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appToken, device: 'd' }) });
    expect(viaApp.headers.get('set-cookie')).toMatch(new RegExp(`^${MEDIA_COOKIE}=`));
    // Only the media route reads it.
    expect((await fetch(`${server.url}${API_PREFIX}/me`, { headers: { cookie: parts[0] ?? '' } })).status).toBe(401);

    // Sign-out clears it, and the signed-out session's cookie no longer reads media.
    const signout = await fetch(`${server.url}${API_PREFIX}/auth/signout`, { method: 'POST', headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(signout.status).toBe(204);
    expect(signout.headers.get('set-cookie')).toMatch(new RegExp(`^${MEDIA_COOKIE}=;.*Max-Age=0`));
    const dead = await fetch(`${server.url}${API_PREFIX}/media/${'0'.repeat(64)}`, { headers: { cookie: parts[0] ?? '' } });
    expect(dead.status).toBe(401);
    expect(((await dead.json()) as { error: { code: string } }).error.code).toBe('session-revoked');
  });
});
