/**
 * `GET /api/v1/media/:hash`: the bytes, streamed from disk, to whoever may
 * read them (media/media.ts), with the bearer token or the media cookie.
 * Immutable by hash (ETag = the hash), single Range requests (206, 416), and
 * the headers of media/headers.ts on every answer, refusals included.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MEDIA_PATH, MediaQuery } from '@parley/protocol';
import type { Tokens } from '../auth/tokens.ts';
import { Refusal } from '../errors.ts';
import { CACHE_CONTROL, contentDisposition, parseRange, SECURITY_HEADERS, servedType } from '../media/headers.ts';
import type { Media } from '../media/media.ts';
import type { MediaRecord } from '../storage/storage.ts';
import { mediaReader } from './cookies.ts';
import { parseBody } from './errors.ts';
import type { RouteBook } from './routes.ts';

/** Whether an If-None-Match list names `etag` (weak or strong, or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  return header !== undefined && header.split(',').some((tag) => ['*', etag].includes(tag.trim().replace(/^W\//, '')));
}

function send(request: FastifyRequest, reply: FastifyReply, media: MediaRecord, path: string, name: string | undefined): FastifyReply {
  const etag = `"${media.hash}"`;
  // A Range with If-Range applies only while the validator matches (always, unless it names another hash).
  const ifRange = request.headers['if-range'];
  const stale = typeof ifRange === 'string' && ifRange.trim() !== etag;
  const range = stale ? null : parseRange(request.headers.range, media.size);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${media.size}`);
    throw new Refusal('range-not-satisfiable');
  }
  const { type, inline } = servedType(media.mime);
  reply
    .header('content-type', type)
    // Files download whatever their type; a type unsafe to render inline downloads too.
    .header('content-disposition', contentDisposition(inline && media.kind !== 'file' ? 'inline' : 'attachment', name ?? media.name ?? media.hash))
    .header('etag', etag)
    .header('cache-control', CACHE_CONTROL)
    .header('accept-ranges', 'bytes');
  if (matches(request.headers['if-none-match'], etag)) return reply.status(304).send();
  const { start, end } = range ?? { start: 0, end: media.size - 1 };
  const length = Math.max(0, end - start + 1);
  reply.header('content-length', String(length));
  if (range !== null) reply.status(206).header('content-range', `bytes ${start}-${end}/${media.size}`);
  else reply.status(200);
  return reply.send(request.method === 'HEAD' || length === 0 ? Readable.from([]) : createReadStream(path, { start, end }));
}

export function registerMedia(routes: RouteBook, { media, tokens }: { media: Media; tokens: Tokens }): void {
  routes.add(
    {
      method: 'GET',
      url: `${MEDIA_PATH}/:hash`,
      summary: 'The bytes of a media hash, for its uploader and the members of a conversation it was sent in (404 for anyone else); Range requests',
      auth: 'media',
      query: MediaQuery,
      binaryResponse: true,
    },
    async (request, reply) => {
      reply.headers(SECURITY_HEADERS);
      const user = await mediaReader(request, tokens);
      const { name } = parseBody(MediaQuery, request.query);
      const found = await media.readable(user, (request.params as { hash?: string }).hash ?? '');
      return send(request, reply, found.media, found.path, name);
    },
  );
}
