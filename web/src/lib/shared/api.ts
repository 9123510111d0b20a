/**
 * The HTTP client: `/api/v1/...` at the same origin, JSON both ways, errors
 * as `{error: {code, message}}` turned into AppError; answers checked against
 * protocol's schemas.
 */
import { API_PREFIX, isErrorCode, type ErrorCode } from '@parley/protocol';
import type { z } from 'zod';
import { AppError, rateLimitedText } from './errors.ts';

/** Answers that mean the session itself is over (signed out elsewhere, or a token from before sessions). */
export const SESSION_OVER: readonly ErrorCode[] = ['session-revoked', 'refresh-invalid', 'token-invalid'];

let sessionOver: ((code: ErrorCode, token: string) => void) | null = null;

/** Who hears that a request's session is over (services/session.ts: back to the sign-in screen). */
export function onSessionOver(handler: (code: ErrorCode, token: string) => void): void {
  sessionOver = handler;
}

interface RequestOptions<S extends z.ZodType> {
  body?: unknown;
  token?: string;
  schema: S;
}

/**
 * A refusal as the server worded it (its message may name what was wrong,
 * e.g. which id of a batch); a `rate-limited` one says how long to wait,
 * from Retry-After.
 */
function refusalOf(response: Response, json: unknown): AppError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = error?.code;
  if (!isErrorCode(code)) return new AppError(response.status >= 500 ? 'internal' : 'bad-request');
  if (code === 'rate-limited') return new AppError(code, rateLimitedText(Number(response.headers.get('retry-after'))));
  return new AppError(code, typeof error?.message === 'string' && error.message !== '' ? error.message : undefined);
}

export async function api<S extends z.ZodType>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions<S>): Promise<z.infer<S>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}${path}`, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
    });
  } catch {
    throw new AppError(navigator.onLine ? 'network' : 'offline');
  }
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
    if (response.status === 401 && options.token !== undefined && isErrorCode(code) && SESSION_OVER.includes(code)) sessionOver?.(code, options.token);
    throw refusalOf(response, json);
  }
  const parsed = options.schema.safeParse(json);
  if (!parsed.success) throw new AppError('unexpected', `unexpected answer from ${path}`);
  return parsed.data;
}
