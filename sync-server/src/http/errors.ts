/**
 * The one error funnel of the HTTP API: every failure leaves as
 * `{error: {code, message}}` with a code from `@parley/protocol`, and the
 * status errors.ts gives that code.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorBody, type ErrorCode } from '@parley/protocol';
import { parseBody, Refusal, statusOf } from '../errors.ts';
import type { Log } from '../log.ts';
import { StorageFaultError } from '../storage/health.ts';
import { v4BodyFailure, V4_PREFIX } from './compat-bodies.ts';
import { RateLimited } from './rate-limits.ts';

/** Parsing a body with a protocol schema lives with Refusal (errors.ts); routes import it from here. */
export { parseBody };

/** Refusals whose detail (which field, which id of a batch) is worth showing; others keep theirs for the log. */
const DETAILED: ReadonlySet<ErrorCode> = new Set(['bad-request', 'user-id-reserved', 'user-exists', 'usersig-invalid']);

export function installErrorFunnel(app: FastifyInstance, log: Log): void {
  app.setErrorHandler((error: FastifyError | Refusal | Error, request, reply) => {
    // A /v4/ body fastify could not take (not JSON, too large) is answered as the hosted service answers it.
    const early = request.url.startsWith(`${V4_PREFIX}/`) && !(error instanceof Refusal) ? v4BodyFailure(error) : null;
    if (early !== null) return reply.status(200).send(early);
    if (error instanceof Refusal) {
      if (error instanceof RateLimited) void reply.header('retry-after', String(error.retryAfter));
      const body = errorBody(error.code);
      if (error.message !== error.code && DETAILED.has(error.code)) body.error.message = `${body.error.message} ${error.message}`;
      return reply.status(statusOf(error.code)).send(body);
    }
    // A write that failed with the storage (a full disk): its code, logged once by storage/health.ts.
    if (error instanceof StorageFaultError) return reply.status(statusOf(error.code)).send(errorBody(error.code));
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    // fastify's body limit (FST_ERR_CTP_BODY_TOO_LARGE): over the route's limit, said as such.
    if (status === 413) return reply.status(413).send(errorBody('payload-too-large'));
    if (status >= 400 && status < 500) return reply.status(400).send(errorBody('bad-request', error.message));
    log.error({ err: error }, 'request failed');
    return reply.status(500).send(errorBody('internal'));
  });
}
