/**
 * Link previews (GET /api/v1/link-previews?url=): the server fetches the
 * page of a link a user is writing, reads its title, description and image
 * (page.ts), keeps the image on its own origin (images.ts), and answers a
 * card the app puts in the message. Every fetch is judged by the guard
 * (public addresses only, each redirect again), shares one deadline, reads
 * at most the byte limits and sends no cookies. Answers (failures too, for
 * less long) are cached in memory, least recently asked dropped first, and
 * one link asked by many at once is fetched once.
 */
import type http from 'node:http';
import type { LinkPreview } from '@parley/protocol';
import type { Log } from '../log.ts';
import { Refusal } from '../errors.ts';
import { get, readAtMost } from './fetch.ts';
import type { LinkGuard, LinkTarget } from './guard.ts';
import type { LinkImages } from './images.ts';
import { readPageMeta, tidy } from './page.ts';

export interface LinkPreviewSettings {
  linkPreviews: boolean;
  linkPreviewTimeoutMs: number;
  linkPreviewPageBytes: number;
  linkPreviewImageBytes: number;
  linkPreviewCache: number;
}

/** Redirects followed, each judged again. */
const MAX_REDIRECTS = 4;
const KEEP_MS = 24 * 3600_000;
const KEEP_FAILURE_MS = 10 * 60_000;

type Answer = { preview: LinkPreview } | { refusal: Refusal };

const unavailable = (detail: string): Refusal => new Refusal('link-preview-unavailable', detail);

export class LinkPreviews {
  /** By link; a Map keeps insertion order, so re-inserting on use makes its first key the least recently asked. */
  private readonly cache = new Map<string, { at: number; answer: Answer }>();
  private readonly inFlight = new Map<string, Promise<Answer>>();

  constructor(
    private readonly settings: LinkPreviewSettings,
    private readonly guard: LinkGuard,
    private readonly images: LinkImages,
    /** Counts a preview of the user's and refuses past their allowance (http/rate-limits.ts). */
    private readonly limits: { linkPreview(user: string): Promise<void> },
    private readonly log: Log,
  ) {}

  async preview(user: string, link: string): Promise<LinkPreview> {
    if (!this.settings.linkPreviews) throw new Refusal('link-previews-off');
    await this.limits.linkPreview(user);
    const key = link.replace(/#.*$/, '');
    const answer = this.cached(key) ?? (await this.fetchOnce(key));
    if ('refusal' in answer) throw answer.refusal;
    return answer.preview;
  }

  private cached(key: string): Answer | undefined {
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    const keep = 'preview' in entry.answer ? KEEP_MS : KEEP_FAILURE_MS;
    this.cache.delete(key);
    if (Date.now() - entry.at > keep) return undefined;
    this.cache.set(key, entry);
    return entry.answer;
  }

  private fetchOnce(key: string): Promise<Answer> {
    let running = this.inFlight.get(key);
    if (running === undefined) {
      running = this.fetch(key).then(
        (preview): Answer => ({ preview }),
        (error: unknown): Answer => ({ refusal: error instanceof Refusal ? error : unavailable((error as Error).message) }),
      );
      this.inFlight.set(key, running);
      void running.then((answer) => {
        this.inFlight.delete(key);
        this.cache.set(key, { at: Date.now(), answer });
        for (const oldest of this.cache.keys()) {
          if (this.cache.size <= this.settings.linkPreviewCache) break;
          this.cache.delete(oldest);
        }
      });
    }
    return running;
  }

  private async fetch(link: string): Promise<LinkPreview> {
    const signal = AbortSignal.timeout(this.settings.linkPreviewTimeoutMs);
    try {
      const { response, target } = await this.follow(link, 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1', signal);
      const type = String(response.headers['content-type'] ?? '').toLowerCase();
      if (!type.includes('text/html') && !type.includes('application/xhtml+xml')) {
        response.destroy();
        throw unavailable(`the link is not a web page (${type || 'no type'})`);
      }
      const meta = await readPageMeta(response, this.settings.linkPreviewPageBytes);
      const title = tidy(meta.title ?? '', 300);
      if (title === '') throw unavailable('the page has no title');
      const description = meta.description === undefined ? '' : tidy(meta.description, 1000);
      const site = tidy(meta.site ?? target.url.hostname.replace(/^www\./, ''), 200);
      const image = meta.image === undefined ? null : await this.image(meta.image, target.url, signal);
      return { url: link, title, ...(description === '' ? {} : { description }), ...(site === '' ? {} : { site }), ...(image === null ? {} : { image }) };
    } catch (error) {
      if (signal.aborted) throw unavailable(`the page did not answer in ${this.settings.linkPreviewTimeoutMs} ms`);
      throw error;
    }
  }

  /** The picture of a card, kept on this server; null when it cannot be had (the card goes without it). */
  private async image(src: string, page: URL, signal: AbortSignal): Promise<string | null> {
    try {
      const { response } = await this.follow(new URL(src, page).href, 'image/png,image/jpeg,image/gif,image/webp;q=0.9', signal);
      const bytes = await readAtMost(response, this.settings.linkPreviewImageBytes);
      return bytes === null ? null : await this.images.keep(bytes);
    } catch (error) {
      if (signal.aborted) throw error;
      this.log.debug({ err: error, src }, 'link preview: no image');
      return null;
    }
  }

  /** GETs a link, following redirects (each judged by the guard); the final 200 answer. */
  private async follow(link: string, accept: string, signal: AbortSignal): Promise<{ response: http.IncomingMessage; target: LinkTarget }> {
    let target = await this.guard.check(link);
    for (let hops = 0; ; hops++) {
      const response = await get(target, accept, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        response.destroy();
        if (hops >= MAX_REDIRECTS) throw unavailable('too many redirects');
        target = await this.guard.check(new URL(location, target.url).href);
        continue;
      }
      if (status !== 200) {
        response.destroy();
        throw unavailable(`the site answered ${status}`);
      }
      return { response, target };
    }
  }
}
