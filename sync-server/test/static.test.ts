import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { api, cleanup, signUp, startServer, tempDir } from './helpers.ts';
import { MediaClient } from './media-client.ts';

afterEach(cleanup);

it('serves the built PWA with an SPA fallback and fitting cache headers', async () => {
  const dist = tempDir();
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Parley</title>');
  writeFileSync(join(dist, 'sw.js'), 'self.skipWaiting()');
  writeFileSync(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
  const { url } = await startServer({ staticDir: dist });

  const index = await fetch(`${url}/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(await index.text()).toContain('Parley');

  expect((await fetch(`${url}/sw.js`)).headers.get('cache-control')).toBe('no-cache');
  const asset = await fetch(`${url}/assets/app-abc123.js`);
  expect(asset.headers.get('cache-control')).toContain('immutable');

  const route = await fetch(`${url}/chat/bob`);
  expect(route.status).toBe(200);
  expect(route.headers.get('cache-control')).toBe('no-cache');
  expect(await route.text()).toContain('Parley');
  // An invite link opens the app (its landing page), on a device that never loaded it before.
  const invite = await fetch(`${url}/invite/AbCdEfGhIjKlMnOpQrStUvWxYz012345`);
  expect(invite.status).toBe(200);
  expect(await invite.text()).toContain('Parley');

  const api = await fetch(`${url}/api/v1/nope`);
  expect(api.status).toBe(404);
  expect(await api.json()).toEqual({ error: { code: 'not-found', message: expect.any(String) as string } });
});

it('serves every response with the security headers: the app, the SPA fallback, assets, the API, its errors and media', async () => {
  const dist = tempDir();
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Parley</title>');
  writeFileSync(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
  const { url } = await startServer({ staticDir: dist });
  const alice = await signUp(url, 'alice');
  await signUp(url, 'bob');
  const bytes = new TextEncoder().encode('not really a picture, and no browser may sniff it into one');
  const { media: { hash } } = await new MediaClient(url, alice.accessToken).upload(bytes, { kind: 'file', peer: 'bob', mime: 'application/octet-stream', name: 'notes.bin' });

  const responses = {
    app: await fetch(`${url}/`),
    'SPA route': await fetch(`${url}/chat/bob`),
    asset: await fetch(`${url}/assets/app-abc123.js`),
    'API answer': await fetch(`${url}/api/v1/push/key`),
    'API refusal': await fetch(`${url}/api/v1/users/me`),
    'unknown API route': await fetch(`${url}/api/v1/nope`),
    media: await fetch(`${url}/api/v1/media/${hash}`, { headers: { authorization: `Bearer ${alice.accessToken}` } }),
  };
  expect(responses.media.status).toBe(200);
  // Media keeps the stricter policy its route sets (nothing in a file may run or load anything).
  expect(responses.media.headers.get('content-security-policy')).toContain("default-src 'none'");
  for (const [what, response] of Object.entries(responses)) {
    expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
    expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
    const permissions = response.headers.get('permissions-policy') ?? '';
    for (const own of ['camera=(self)', 'microphone=(self)', 'geolocation=(self)', 'usb=()', 'payment=()']) expect(permissions, what).toContain(own);
    await response.arrayBuffer();
    if (response === responses.media) continue;
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp, what).toContain("default-src 'self'");
    expect(csp, what).toContain("script-src 'self'");
    expect(csp, what).not.toContain('unsafe-inline');
    expect(csp, what).not.toContain('unsafe-eval');
    expect(csp, what).toContain("connect-src 'self'");
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("object-src 'none'");
    expect(csp, what).toContain("img-src 'self' data: blob:");
    expect(csp, what).toContain("media-src 'self' blob:");
  }
});

it('refuses a JSON body over the limit with 413 payload-too-large, whether its length is declared or not', async () => {
  const { url } = await startServer();
  const big = JSON.stringify({ user: 'alice', password: 'x'.repeat(2 * 1024 * 1024), device: 'd' });
  const declared = await fetch(`${url}/api/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  expect(declared.status).toBe(413);
  expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('payload-too-large');

  // Chunked, no Content-Length: refused once the bytes pass the limit.
  const chunks = new Blob([big]).stream();
  const streamed = await fetch(`${url}/api/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' });
  expect(streamed.status).toBe(413);
  expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('payload-too-large');
  // A small body still reaches the route.
  expect((await api(url, 'POST', '/auth/signup', { user: 'alice', password: 'correct horse', device: 'd' })).status).toBe(201);
});
