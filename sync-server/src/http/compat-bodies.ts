/**
 * Bodies as the hosted service's backends send them to `/v4/`: JSON whatever
 * the Content-Type says (its samples use `curl -d`, which says
 * application/x-www-form-urlencoded), and a body fastify cannot take (not
 * JSON, over the limit) answered in its terms (HTTP 200, ErrorCode 90001 or
 * 93000), not with Parley's 400 (http/errors.ts asks v4BodyFailure). Other
 * URLs keep fastify's own handling.
 */
import type { FastifyInstance } from 'fastify';

/** Where the hosted service's REST API is served (http/compat.ts). */
export const V4_PREFIX = '/v4';

/** A body that is not JSON at all, answered as the hosted service does. */
export const JSON_FAILURE = { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'Fail to Parse json data of body, Please check it' } as const;

const isV4 = (url: string): boolean => url.startsWith(`${V4_PREFIX}/`);

export function acceptV4Bodies(app: FastifyInstance): void {
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, (request, body, done) => {
    if (!isV4(request.url)) {
      done(Object.assign(new Error(`Unsupported Media Type: ${request.headers['content-type'] ?? ''}`), { statusCode: 415 }), undefined);
      return;
    }
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('not JSON'), { statusCode: 400 }), undefined);
    }
  });
}

/** The hosted answer to a /v4/ request fastify refused before its route ran; null for a fault of the server. */
export function v4BodyFailure(error: Error): object | null {
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 413) return { ActionStatus: 'FAIL', ErrorCode: 93000, ErrorInfo: 'the request body is over the size limit' };
  if (status >= 400 && status < 500) return JSON_FAILURE;
  return null;
}
