/**
 * Media a `/v4/` message names by URL (the hosted service's elements carry
 * URLs, not bytes): fetched once, by the server, under the link previews'
 * rules against request forgery (links/guard.ts: http(s) on the default port
 * at public addresses, every redirect judged again, the request sent to the
 * judged address), within PARLEY_COMPAT_MEDIA_TIMEOUT_MS and the kind's size
 * limit, and stored as a one-shot upload by the sender for the recipient
 * (quotas, hashing and the media store as any upload's). A URL on this very
 * server's media path is taken as the hash it names, without a fetch.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { imageSize } from 'image-size';
import { MEDIA_HASH_PATTERN, MEDIA_LIMITS, MEDIA_PATH, type MediaKind, type MediaRef, type Picture } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import { get, readAtMost } from '../links/fetch.ts';
import type { LinkGuard } from '../links/guard.ts';
import type { Media } from '../media/media.ts';

const MAX_REDIRECTS = 3;

export interface Fetched {
  media: MediaRef;
  /** The picture's pixel size, read from its bytes (images only). */
  size?: { width: number; height: number };
}

export interface FetchFor {
  from: string;
  /** The conversation's other member; none for an avatar (a PNG, JPEG or WebP picture, as any avatar upload). */
  to?: string;
  kind: MediaKind;
  name?: string;
}

export class MediaFetcher {
  constructor(
    private readonly guard: LinkGuard,
    private readonly media: Media,
    private readonly timeoutMs: number,
  ) {}

  async fetch(url: string, o: FetchFor): Promise<Fetched> {
    const own = ownHash(url);
    if (own !== null) return this.known(own, o);
    const signal = AbortSignal.timeout(this.timeoutMs);
    const limit = MEDIA_LIMITS[o.kind];
    let link = url;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const target = await this.guard.check(link);
        const response = await get(target, '*/*', signal);
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400 && response.headers.location !== undefined) {
          response.resume();
          link = new URL(response.headers.location, target.url).toString();
          continue;
        }
        if (status !== 200) {
          response.resume();
          throw new Refusal('media-url-failed', `${url} answered ${status}`);
        }
        const length = Number(response.headers['content-length'] ?? Number.NaN);
        if (Number.isFinite(length) && length > limit) {
          response.destroy();
          throw new Refusal('media-too-large', `${url} is ${length} bytes; a ${o.kind} may be ${limit}`);
        }
        const mime = (response.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim() || 'application/octet-stream';
        // Pictures are read whole (to learn their size); anything else streams to disk.
        if (o.kind === 'image') {
          const bytes = await readAtMost(response, limit);
          if (bytes === null) throw new Refusal('media-too-large', `${url} is over ${limit} bytes for an image`);
          const done = await this.store(Readable.from([bytes]), bytes.length, mime, o);
          return { media: done, size: pictureSize(bytes, url) };
        }
        return { media: await this.store(response, Number.isFinite(length) ? length : undefined, mime, o) };
      }
      throw new Refusal('media-url-failed', `${url} redirects more than ${MAX_REDIRECTS} times`);
    } catch (error) {
      if (error instanceof Refusal) {
        if (error.code === 'link-forbidden') throw new Refusal('media-url-forbidden', error.message);
        if (error.code === 'link-preview-unavailable') throw new Refusal('media-url-failed', error.message);
        throw error;
      }
      throw new Refusal('media-url-failed', `${url}: ${signal.aborted ? `no whole answer within ${this.timeoutMs} ms` : (error as Error).message}`);
    }
  }

  /** A picture by URL, with its pixel size read from its bytes (anything else is refused). */
  async picture(url: string, o: Omit<FetchFor, 'kind'>): Promise<Picture> {
    const { media, size } = await this.fetch(url, { ...o, kind: 'image' });
    if (size === undefined) throw new Refusal('bad-request', `${url} is not a picture`);
    return { media, ...size };
  }

  private async store(body: Readable, length: number | undefined, mime: string, o: FetchFor): Promise<MediaRef> {
    const query = { kind: o.kind, mime, ...(o.to === undefined ? {} : { peer: o.to }), ...(o.name === undefined ? {} : { name: o.name }) };
    const done = await this.media.oneShot.receive({ user: o.from, device: 'compat' }, query, body, length);
    return done.media;
  }

  /** Media already on this server: the sender must be able to read it, as a forward's. */
  private async known(hash: string, o: FetchFor): Promise<Fetched> {
    const { media, path } = await this.media.readable(o.from, hash);
    const ref = { hash: media.hash, size: media.size, mime: media.mime };
    if (o.kind !== 'image') return { media: ref };
    return { media: ref, size: pictureSize(await readFile(path), hash) };
  }
}

/** The hash of a URL on this server's media path (`…/api/v1/media/<hash>`), or null. */
function ownHash(url: string): string | null {
  let path: string;
  try {
    path = new URL(url, 'http://parley.invalid').pathname;
  } catch {
    return null;
  }
  const hash = path.startsWith(`${MEDIA_PATH}/`) ? path.slice(MEDIA_PATH.length + 1) : '';
  return MEDIA_HASH_PATTERN.test(hash) ? hash : null;
}

function pictureSize(bytes: Buffer, what: string): { width: number; height: number } {
  try {
    const { width, height } = imageSize(bytes);
    if (width !== undefined && height !== undefined && width > 0 && height > 0) return { width, height };
  } catch {
    // Not a picture format image-size knows: refused below.
  }
  throw new Refusal('bad-request', `${what} is not a picture (JPEG, PNG, GIF, WebP or BMP)`);
}
