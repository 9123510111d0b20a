/**
 * What a page says of itself for a card: its title, description, site name
 * and image (Open Graph first, then Twitter's tags, then <title> and the
 * description meta), read from the start of the page as it streams, and no
 * further than its <head> or the byte limit: the rest is never downloaded.
 */
import type http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { Parser } from 'htmlparser2';

export interface PageMeta {
  title?: string;
  description?: string;
  site?: string;
  /** As written in the page: resolve it against the page's URL. */
  image?: string;
}

const PROPERTIES: Record<string, keyof PageMeta> = {
  'og:title': 'title',
  'twitter:title': 'title',
  'og:description': 'description',
  'twitter:description': 'description',
  description: 'description',
  'og:site_name': 'site',
  'og:image': 'image',
  'og:image:url': 'image',
  'og:image:secure_url': 'image',
  'twitter:image': 'image',
};

/** A value as a card shows it: one line of plain text, cut at `max` characters. */
export function tidy(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

export async function readPageMeta(body: http.IncomingMessage, maxBytes: number): Promise<PageMeta> {
  const meta: PageMeta = {};
  let titleText = '';
  let inTitle = false;
  let done = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'title') inTitle = true;
        if (name === 'body') done = true;
        if (name !== 'meta') return;
        const key = (attributes.property ?? attributes.name ?? '').toLowerCase();
        const field = PROPERTIES[key];
        const content = attributes.content;
        // The first of each wins: og: comes before twitter: in most pages, and before a later duplicate.
        if (field !== undefined && content !== undefined && content.trim() !== '' && meta[field] === undefined) meta[field] = content;
      },
      ontext(text) {
        if (inTitle) titleText += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (name === 'head') done = true;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  let read = 0;
  // Decoded as UTF-8 (nearly every page is; others lose accents in the card, nothing more), whole characters across chunks.
  const utf8 = new StringDecoder('utf8');
  for await (const chunk of body as AsyncIterable<Buffer>) {
    // Never more than the limit, even of a chunk that arrived whole.
    const part = chunk.subarray(0, maxBytes - read);
    parser.write(utf8.write(part));
    read += part.length;
    if (done || read >= maxBytes) break;
  }
  body.destroy();
  parser.end();
  if (meta.title === undefined && titleText.trim() !== '') meta.title = titleText;
  return meta;
}
