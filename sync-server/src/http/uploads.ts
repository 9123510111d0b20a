/**
 * Upload routes (`/api/v1/uploads`, and the one-shot `POST /api/v1/media`);
 * the contract is protocol/src/media.ts. Raw bodies reach the handlers as the
 * request stream itself: the octet-stream parser hands it over unread, so
 * fastify never buffers it (its bodyLimit applies only to buffered bodies),
 * and media/receive.ts counts it against the upload's own limit.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  API_PREFIX,
  MEDIA_PATH,
  OneShotUploadQuery,
  Ok,
  UPLOAD_OFFSET_HEADER,
  UploadChunkQuery,
  UploadCreate,
  UploadDone,
  UploadStatus,
} from '@parley/protocol';
import { z } from 'zod';
import type { Media } from '../media/media.ts';
import { UploadRefusal } from '../media/refusal.ts';
import { parseBody } from './errors.ts';
import type { Caller, RouteBook } from './routes.ts';

const UPLOADS = `${API_PREFIX}/uploads`;

const idOf = (request: FastifyRequest): string => (request.params as { id?: string }).id ?? '';

/** The declared Content-Length, if any (absent for a chunked body). */
function contentLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Runs a raw-body handler. A refusal says how much of the upload the server
 * holds (Upload-Offset); and an answer given before the whole request
 * arrived closes the connection, so the rest of the body is never read (Node
 * would otherwise read and discard it to reuse the connection).
 */
async function withBody<T>(request: FastifyRequest, reply: FastifyReply, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UploadRefusal && error.received !== null) reply.header(UPLOAD_OFFSET_HEADER, String(error.received));
    if (!request.raw.complete) reply.header('connection', 'close');
    throw error;
  }
}

export function registerUploads(app: FastifyInstance, routes: RouteBook, { media, caller }: { media: Media; caller: Caller }): void {
  const { uploads } = media;
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  routes.add(
    {
      method: 'POST',
      url: UPLOADS,
      summary: 'Start an upload (201 UploadStatus), or 200 UploadDone at once when the caller may read that hash already',
      auth: 'user',
      body: UploadCreate,
      response: z.union([UploadStatus, UploadDone]),
      status: 201,
    },
    async (request, reply) => {
      const created = await uploads.create(await caller(request), parseBody(UploadCreate, request.body));
      if ('done' in created) return reply.status(200).send(created.done);
      reply.header(UPLOAD_OFFSET_HEADER, '0');
      return created.status;
    },
  );

  routes.add({ method: 'GET', url: `${UPLOADS}/:id`, summary: 'How much of an upload the server holds, to resume', auth: 'user', response: UploadStatus }, async (request, reply) =>
    withBody(request, reply, async () => {
      const status = await uploads.status(await caller(request), idOf(request));
      reply.header(UPLOAD_OFFSET_HEADER, String(status.received));
      return status;
    }),
  );

  routes.add(
    {
      method: 'PUT',
      url: `${UPLOADS}/:id`,
      summary: 'Append raw bytes at ?offset= (which must be what the server holds); refused with 413 the moment they pass the declared size',
      auth: 'user',
      query: UploadChunkQuery,
      binaryBody: true,
      response: UploadStatus,
    },
    async (request, reply) =>
      withBody(request, reply, async () => {
        const who = await caller(request);
        const { offset } = parseBody(UploadChunkQuery, request.query);
        const status = await uploads.put(who, idOf(request), offset, request.raw, contentLength(request));
        reply.header(UPLOAD_OFFSET_HEADER, String(status.received));
        return status;
      }),
  );

  routes.add(
    { method: 'POST', url: `${UPLOADS}/:id/complete`, summary: 'Check the SHA-256 and store the bytes under it', auth: 'user', response: UploadDone },
    async (request, reply) => withBody(request, reply, async () => uploads.complete(await caller(request), idOf(request))),
  );

  routes.add({ method: 'DELETE', url: `${UPLOADS}/:id`, summary: 'Cancel an upload', auth: 'user', response: Ok }, async (request, reply) =>
    withBody(request, reply, async () => {
      await uploads.cancel(await caller(request), idOf(request));
      return { ok: true as const };
    }),
  );

  routes.add(
    {
      method: 'POST',
      url: MEDIA_PATH,
      summary: 'Upload in one request, any length (chunked is fine), not resumable; refused with 413 the moment it passes the kind\'s limit',
      auth: 'user',
      query: OneShotUploadQuery,
      binaryBody: true,
      response: UploadDone,
      status: 201,
    },
    async (request, reply) =>
      withBody(request, reply, async () => {
        const who = await caller(request);
        const query = parseBody(OneShotUploadQuery, request.query);
        return media.oneShot.receive(who, query, request.raw, contentLength(request));
      }),
  );
}
