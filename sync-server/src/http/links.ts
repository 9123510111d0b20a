/**
 * Link previews (`/api/v1/link-previews`) and their images, re-served from
 * Parley's origin (`/api/v1/media/links/:hash`, under the media path so that
 * the media cookie reaches an <img>): links/.
 */
import { API_PREFIX, LINK_IMAGE_PATH, LinkPreview, LinkPreviewQuery } from '@parley/protocol';
import type { Tokens } from '../auth/tokens.ts';
import { Refusal } from '../errors.ts';
import type { LinkImages } from '../links/images.ts';
import type { LinkPreviews } from '../links/previews.ts';
import { CACHE_CONTROL, SECURITY_HEADERS } from '../media/headers.ts';
import { mediaReader } from './cookies.ts';
import { parseBody } from './errors.ts';
import type { Caller, RouteBook } from './routes.ts';

export function registerLinks(routes: RouteBook, { previews, images, tokens, caller }: { previews: LinkPreviews; images: LinkImages; tokens: Tokens; caller: Caller }): void {
  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/link-previews`,
      summary: "A link's card (title, description, site, image re-served by this server), fetched by the server for a message being written",
      auth: 'user',
      query: LinkPreviewQuery,
      response: LinkPreview,
    },
    async (request) => {
      const { user } = await caller(request);
      const { url } = parseBody(LinkPreviewQuery, request.query);
      return previews.preview(user, url);
    },
  );

  routes.add(
    {
      method: 'GET',
      url: `${LINK_IMAGE_PATH}/:hash`,
      summary: "A link preview's image, to anyone signed in (with the bearer token or the media cookie)",
      auth: 'media',
      binaryResponse: true,
    },
    async (request, reply) => {
      reply.headers(SECURITY_HEADERS);
      await mediaReader(request, tokens);
      const found = await images.read((request.params as { hash?: string }).hash ?? '');
      if (found === null) throw new Refusal('media-not-found');
      return reply.header('content-type', found.type).header('cache-control', CACHE_CONTROL).header('content-length', String(found.bytes.length)).send(found.bytes);
    },
  );
}
