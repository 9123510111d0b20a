/**
 * Link previews: the server fetches a page for a card with the guard push
 * uses (public addresses only, each redirect judged again; a test's own site
 * is let in by PARLEY_LINK_PREVIEW_ALLOW), within its time and size limits,
 * without cookies, caches the answer, and re-serves the image from its own
 * origin. A real web server on 127.0.0.1 plays the linked site.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, type LinkPreview } from '@parley/protocol';
import { api, cleanup, signUp, startServer, type TestServer } from './helpers.ts';

/** The smallest real PNG: one transparent pixel. */
const PIXEL = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

interface Site {
  origin: string;
  /** Requests by path, with their headers. */
  hits: { path: string; headers: IncomingHttpHeaders }[];
  server: Server;
}

const sites: Server[] = [];

afterEach(async () => {
  await cleanup();
  for (const site of sites.splice(0)) {
    site.closeAllConnections();
    await new Promise((resolve) => site.close(resolve));
  }
});

const page = (head: string): string => `<!doctype html><html><head>${head}</head><body><p>${'body text '.repeat(50)}</p></body></html>`;

async function startSite(other = ''): Promise<Site> {
  const hits: Site['hits'] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    hits.push({ path, headers: request.headers });
    const html = (body: string): void => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'tracker=1; Path=/' });
      response.end(body);
    };
    if (path === '/article' || path.startsWith('/article?'))
      html(
        page(
          '<title>Fallback title</title><meta property="og:title" content="Brunch &amp; more: the 10 best places"><meta property="og:description" content="Where to eat on a Saturday.  Ranked."><meta property="og:site_name" content="City Guide"><meta property="og:image" content="/cover.png">',
        ),
      );
    else if (path === '/plain-title') html(page('<title>  Just a   title  </title>'));
    else if (path === '/cover.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(PIXEL);
    } else if (path === '/big-cover') html(page('<title>Big picture</title><meta property="og:image" content="/big.png">'));
    else if (path === '/big.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(Buffer.concat([PIXEL, Buffer.alloc(8192)]));
    } else if (path === '/svg-cover') html(page('<title>Vector</title><meta property="og:image" content="/cover.svg">'));
    else if (path === '/cover.svg') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    } else if (path === '/late-title') html(`<!doctype html><html><head><meta name="x" content="${'x'.repeat(8000)}"><title>Too far down</title></head></html>`);
    else if (path === '/file.zip') {
      response.writeHead(200, { 'content-type': 'application/zip' });
      response.end('PK');
    } else if (path === '/slow') {
      // Never answers: the preview's deadline must end it.
    } else if (path === '/elsewhere') {
      response.writeHead(302, { location: `${other}/article` });
      response.end();
    } else if (path === '/loop') {
      response.writeHead(302, { location: '/loop' });
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  sites.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

async function setUp(env: Record<string, string> = {}): Promise<{ server: TestServer; site: Site; token: string }> {
  const site = await startSite();
  const server = await startServer({ env: { PARLEY_LINK_PREVIEW_ALLOW: site.origin, ...env } });
  const { accessToken } = await signUp(server.url, 'alice');
  return { server, site, token: accessToken };
}

const preview = (server: TestServer, token: string, url: string) => api<LinkPreview & { error?: { code: string } }>(server.url, 'GET', `/link-previews?url=${encodeURIComponent(url)}`, undefined, token);

describe('link previews', () => {
  it("read a page's Open Graph card, keep its image on this server, send no cookies, and answer again from the cache", async () => {
    const { server, site, token } = await setUp();
    const link = `${site.origin}/article`;
    const first = await preview(server, token, link);
    expect(first).toMatchObject({
      status: 200,
      body: { url: link, title: 'Brunch & more: the 10 best places', description: 'Where to eat on a Saturday. Ranked.', site: 'City Guide' },
    });
    const image = first.body.image ?? '';
    expect(image).toMatch(/^\/api\/v1\/media\/links\/[0-9a-f]{64}$/);
    expect(site.hits.map((h) => h.path)).toEqual(['/article', '/cover.png']);
    expect(site.hits.every((h) => h.headers.cookie === undefined)).toBe(true);

    // Served from Parley's origin, as a picture and nothing else, to anyone signed in.
    const bob = await signUp(server.url, 'bob');
    const served = await fetch(`${server.url}${image}`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(PIXEL)).toBe(true);
    expect((await fetch(`${server.url}${image}`)).status).toBe(401);

    // Bob asks for the same link (with a fragment): the site is not asked again.
    expect((await preview(server, bob.accessToken, `${link}#top`)).body).toEqual(first.body);
    expect(site.hits).toHaveLength(2);
  });

  it('fall back to <title> and the host, and go without a picture that is too large or not a picture', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEW_IMAGE_BYTES: '1024' });
    expect((await preview(server, token, `${site.origin}/plain-title`)).body).toEqual({ url: `${site.origin}/plain-title`, title: 'Just a title', site: '127.0.0.1' });
    const big = await preview(server, token, `${site.origin}/big-cover`);
    expect(big.status).toBe(200);
    expect(big.body).not.toHaveProperty('image');
    const svg = await preview(server, token, `${site.origin}/svg-cover`);
    expect(svg.status).toBe(200);
    expect(svg.body).not.toHaveProperty('image');
  });

  it('refuse links to private addresses, also through a redirect, and links that are not http(s)', async () => {
    const { server, site, token } = await setUp();
    const privateSite = await startSite();
    expect(await preview(server, token, `${privateSite.origin}/article`)).toMatchObject({ status: 400, body: { error: { code: 'link-forbidden' } } });
    expect(privateSite.hits).toEqual([]);
    const redirecting = await startSite(privateSite.origin);
    // The redirecting site is not on the allow-list either: add a server that lets it in and not its target.
    const server2 = await startServer({ env: { PARLEY_LINK_PREVIEW_ALLOW: redirecting.origin } });
    const carol = await signUp(server2.url, 'carol');
    expect(await preview(server2, carol.accessToken, `${redirecting.origin}/elsewhere`)).toMatchObject({ status: 400, body: { error: { code: 'link-forbidden' } } });
    expect(privateSite.hits).toEqual([]);
    for (const link of ['ftp://example.com/file', 'file:///etc/passwd', 'http://user:secret@127.0.0.1/', 'not a link']) {
      expect(await preview(server, token, link)).toMatchObject({ status: 400, body: { error: { code: 'link-forbidden' } } });
    }
    expect(await preview(server, token, `${site.origin}/loop`)).toMatchObject({ status: 422, body: { error: { code: 'link-preview-unavailable' } } });
    expect(await preview(server, token, `${site.origin}/file.zip`)).toMatchObject({ status: 422, body: { error: { code: 'link-preview-unavailable' } } });
  });

  it('give up on a page that does not answer within PARLEY_LINK_PREVIEW_TIMEOUT_MS', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEW_TIMEOUT_MS: '300' });
    const started = Date.now();
    expect(await preview(server, token, `${site.origin}/slow`)).toMatchObject({ status: 422, body: { error: { code: 'link-preview-unavailable' } } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('read no more of a page than PARLEY_LINK_PREVIEW_PAGE_BYTES', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEW_PAGE_BYTES: '2048' });
    expect(await preview(server, token, `${site.origin}/late-title`)).toMatchObject({ status: 422, body: { error: { code: 'link-preview-unavailable' } } });
    expect((await preview(server, token, `${site.origin}/plain-title`)).status).toBe(200);
  });

  it('refuse a user past PARLEY_LINK_PREVIEWS_PER_MINUTE, cached answers included', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEWS_PER_MINUTE: '2' });
    expect((await preview(server, token, `${site.origin}/article`)).status).toBe(200);
    expect((await preview(server, token, `${site.origin}/article`)).status).toBe(200);
    const third = await fetch(`${server.url}${API_PREFIX}/link-previews?url=${encodeURIComponent(`${site.origin}/article`)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('rate-limited');
  });

  it('keep PARLEY_LINK_PREVIEW_CACHE answers, dropping the least recently asked', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEW_CACHE: '1' });
    const pages = (): string[] => site.hits.map((h) => h.path).filter((p) => p !== '/cover.png');
    await preview(server, token, `${site.origin}/article`);
    await preview(server, token, `${site.origin}/article`);
    expect(pages()).toEqual(['/article']);
    await preview(server, token, `${site.origin}/plain-title`);
    await preview(server, token, `${site.origin}/article`);
    expect(pages()).toEqual(['/article', '/plain-title', '/article']);
  });

  it('are refused with link-previews-off when PARLEY_LINK_PREVIEWS is off, and need a signed-in user', async () => {
    const { server, site, token } = await setUp({ PARLEY_LINK_PREVIEWS: 'off' });
    expect(await preview(server, token, `${site.origin}/article`)).toMatchObject({ status: 404, body: { error: { code: 'link-previews-off' } } });
    expect(site.hits).toEqual([]);
    expect((await api(server.url, 'GET', `/link-previews?url=${encodeURIComponent(`${site.origin}/article`)}`)).status).toBe(401);
  });
});
