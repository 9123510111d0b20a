/**
 * Media in the service worker. `GET /api/v1/media/<hash>` is addressed by its
 * content, so an answer never changes: it is served cache first, and media
 * seen once stays viewable offline.
 *
 * - Only whole answers (200) are cached, never 206 partials.
 * - A Range request (audio, video) is answered from a cached whole response,
 *   sliced to the range (RangeRequestsPlugin). On a miss it goes to the
 *   network as asked, so a long video streams at once; media small enough
 *   (MEDIA_CACHE_WHOLE_BYTES: voice, short clips) is fetched whole in the
 *   background for next time.
 * - The cache keeps at most MAX_ENTRIES answers (ExpirationPlugin) and about
 *   MAX_BYTES by Content-Length, the oldest going first.
 */
import { mediaUrl } from '@parley/protocol';
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import type { RouteHandlerCallbackOptions, WorkboxPlugin } from 'workbox-core/types.js';
import { ExpirationPlugin } from 'workbox-expiration';
import { RangeRequestsPlugin } from 'workbox-range-requests';
import { registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { MEDIA_CACHE, MEDIA_CACHE_WHOLE_BYTES } from './cache.ts';

const MAX_ENTRIES = 400;
/** About what a phone can spare for chat media without the browser evicting the whole origin. */
const MAX_BYTES = 300 * 1024 * 1024;
const MATCH: CacheQueryOptions = { ignoreVary: true, ignoreSearch: true };

/** Keeps the cache under MAX_BYTES by Content-Length, oldest entries first (cache keys keep insertion order). */
const byteBudget: WorkboxPlugin = {
  cacheDidUpdate: async ({ cacheName }) => {
    const cache = await caches.open(cacheName);
    const keys = await cache.keys();
    const sizes = await Promise.all(keys.map(async (key) => Number((await cache.match(key, MATCH))?.headers.get('content-length') ?? 0) || 0));
    let total = sizes.reduce((sum, n) => sum + n, 0);
    for (let i = 0; i < keys.length && total > MAX_BYTES; i++) {
      const key = keys[i];
      if (key !== undefined) await cache.delete(key, MATCH);
      total -= sizes[i] ?? 0;
    }
  },
};

const cacheFirst = new CacheFirst({
  cacheName: MEDIA_CACHE,
  matchOptions: MATCH,
  plugins: [
    new CacheableResponsePlugin({ statuses: [200] }),
    new ExpirationPlugin({ maxEntries: MAX_ENTRIES, matchOptions: MATCH, purgeOnQuotaError: true }),
    byteBudget,
    new RangeRequestsPlugin(),
  ],
});

/** The whole size from `Content-Range: bytes a-b/total`, or null. */
function totalOf(response: Response): number | null {
  const match = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

async function handle(options: RouteHandlerCallbackOptions): Promise<Response> {
  const { request, event } = options;
  if (!(request instanceof Request) || !request.headers.has('range')) return cacheFirst.handle(options);
  const cache = await caches.open(MEDIA_CACHE);
  if ((await cache.match(request.url, MATCH)) !== undefined) return cacheFirst.handle(options);
  const response = await fetch(request);
  const total = totalOf(response);
  if (response.status === 206 && total !== null && total <= MEDIA_CACHE_WHOLE_BYTES) {
    const whole = new Request(request.url, { credentials: 'same-origin' });
    event.waitUntil(cacheFirst.handle({ request: whole, event }).then(
      () => undefined,
      () => undefined,
    ));
  }
  return response;
}

/** Routes media requests through the cache; call once, after precaching. */
export function registerMediaRoute(): void {
  const prefix = mediaUrl('');
  registerRoute(({ url, request }) => url.origin === self.location.origin && url.pathname.startsWith(prefix) && request.method === 'GET', handle);
}
