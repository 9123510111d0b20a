/**
 * The one error funnel of the HTTP API: every failure leaves as
 * `{error: {code, message}}` with a code from `@parley/protocol`.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorBody, type ErrorCode } from '@parley/protocol';
import type { ZodError } from 'zod';
import { Refusal } from '../auth/accounts.ts';
import type { Log } from '../log.ts';
import { StorageFaultError } from '../storage/health.ts';
import { RateLimited } from './rate-limits.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  'bad-request': 400,
  'token-missing': 401,
  'token-expired': 401,
  'token-invalid': 401,
  'bad-credentials': 401,
  'app-token-invalid': 401,
  'not-member': 403,
  'not-owner-doc': 403,
  'not-found': 404,
  'user-not-found': 404,
  'user-exists': 409,
  'admin-required': 403,
  'message-not-found': 404,
  'request-not-found': 404,
  'already-friends': 409,
  'duplicate-id': 409,
  blocked: 403,
  'blocklist-full': 409,
  'friends-full': 409,
  'media-too-large': 413,
  'upload-too-large': 413,
  'upload-offset-mismatch': 409,
  'upload-incomplete': 409,
  'upload-not-found': 404,
  'hash-mismatch': 422,
  'media-not-found': 404,
  'range-not-satisfiable': 416,
  'session-revoked': 401,
  'refresh-invalid': 401,
  'user-id-reserved': 400,
  'nickname-invalid': 400,
  'password-too-weak': 400,
  'rate-limited': 429,
  'too-many-sockets': 429,
  'too-many-docs': 429,
  'slow-down': 429,
  'ts-out-of-range': 400,
  'push-endpoint-forbidden': 400,
  'storage-full': 507,
  'storage-unavailable': 503,
  'quota-exceeded': 413,
  'too-many-uploads': 429,
  'avatar-invalid': 400,
  'payload-too-large': 413,
  internal: 500,
};

/** Refusals whose detail (which field, which id of a batch) is worth showing; others keep theirs for the log. */
const DETAILED: ReadonlySet<ErrorCode> = new Set(['bad-request', 'user-id-reserved', 'user-exists']);

export const statusOf = (code: ErrorCode): number => STATUS[code] ?? 400;

/** Parses a body with a protocol schema; a mismatch is a `bad-request` refusal. */
export function parseBody<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: ZodError } }, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new Refusal('bad-request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}

export function installErrorFunnel(app: FastifyInstance, log: Log): void {
  app.setErrorHandler((error: FastifyError | Refusal | Error, _request, reply) => {
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
