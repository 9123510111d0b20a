/**
 * What a refusal is on this server, in one place: the class every layer
 * throws for an expected refusal (bugs throw ordinary errors), the HTTP
 * status of every code and the WebSocket close code of every code that
 * closes a socket. The codes and their messages are `@parley/protocol`'s,
 * shared with the clients; how each leaves by HTTP or WebSocket is the
 * server's, and lives here so that a new code is given both at once.
 *
 * A leaf: it imports only the protocol, so every folder (sync/ and storage/
 * among them) may throw a Refusal without pointing up at auth/ or http/.
 */
import { CLOSE_CODES, type ErrorCode } from '@parley/protocol';
import type { ZodError } from 'zod';

/** An expected refusal with a code of the closed set; `detail` is for the log (http/errors.ts shows a few). */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: ErrorCode,
    detail?: string,
  ) {
    super(detail ?? code);
  }
}

/**
 * The status of every code, a full record so that a code cannot be added to
 * the protocol without one. Codes that only travel on the sync wire (a
 * `reject` frame, a `refused` frame before a close) have the status an HTTP
 * answer with them would carry, so a route that starts to refuse with one
 * needs no new decision: a malformed request 400, a permission 403, a
 * conflict with what is stored 409, too much at once 413.
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  // Authentication and access.
  'token-missing': 401,
  'token-expired': 401,
  'token-invalid': 401,
  'bad-credentials': 401,
  'user-exists': 409,
  'account-deleted': 409,
  'confirmation-mismatch': 400,
  'not-member': 403,
  'not-owner-doc': 403,
  'session-revoked': 401,
  'refresh-invalid': 401,
  'user-id-reserved': 400,
  'nickname-invalid': 400,
  'password-too-weak': 400,
  'rate-limited': 429,
  'too-many-sockets': 429,
  'too-many-docs': 429,
  // Sync wire only: a socket closed for not reading what it was sent (the client's fault, not its request's).
  'socket-too-slow': 400,

  // Update validation. Sync wire only (`reject` frames), except duplicate-id and body-too-long, which the admin API also gives.
  'client-id-taken': 409,
  'reset-required': 409,
  'read-only': 403,
  'unknown-root': 400,
  'nested-type': 400,
  'schema-invalid': 400,
  'not-author': 403,
  'not-owner': 403,
  'duplicate-id': 409,
  'wrong-conversation': 400,
  'body-too-long': 400,
  'system-reserved': 403,
  'duplicate-action': 409,
  'action-too-long': 400,
  'recall-window-passed': 403,
  'message-recalled': 409,
  'not-editable': 403,
  'draft-too-long': 400,
  'prefs-full': 409,
  'update-too-large': 413,
  'slow-down': 429,
  'ts-out-of-range': 400,

  // Permission. blocked reaches the social API; the others only `reject` frames.
  blocked: 403,
  'not-friends': 403,
  'not-in-recipient-friends': 403,
  'not-in-sender-friends': 403,
  'blocklist-full': 409,
  'friends-full': 409,
  'request-not-found': 404,
  'already-friends': 409,
  'self-relation': 400,

  // Finding people.
  'query-too-short': 400,
  'invite-not-found': 404,
  // Gone: the link existed and ran out; the app says to ask for a new one.
  'invite-expired': 410,
  'invite-own': 400,
  'too-many-invites': 409,

  // Admin API.
  'admin-required': 403,
  'message-not-found': 404,
  'too-many': 400,

  // Web Push.
  'push-endpoint-forbidden': 400,
  'link-forbidden': 400,
  'link-preview-unavailable': 422,
  'link-previews-off': 404,
  'media-url-forbidden': 400,
  'media-url-failed': 422,
  'push-subscription-invalid': 400,

  // Uploads and media.
  'media-too-large': 413,
  'upload-too-large': 413,
  'upload-offset-mismatch': 409,
  'upload-incomplete': 409,
  'upload-not-found': 404,
  'hash-mismatch': 422,
  'media-not-found': 404,
  'storage-full': 507,
  'storage-unavailable': 503,
  // The readiness endpoint's reason while the process shuts down: a proxy sends nothing new to it.
  draining: 503,
  'doc-moved': 503,
  'quota-exceeded': 413,
  'too-many-uploads': 429,
  'avatar-invalid': 400,
  'range-not-satisfiable': 416,

  // The app's backend before a send: a refusal of this message (403), or no answer from the backend (503, a gateway's).
  'callback-refused': 403,
  'callback-unavailable': 503,

  // HTTP.
  'bad-request': 400,
  'payload-too-large': 413,
  'not-found': 404,
  'user-not-found': 404,
  'app-token-invalid': 401,
  'usersig-invalid': 401,
  'usersig-expired': 401,
  // The feature is not configured: as if the route were not there, with a message saying why.
  'compat-off': 404,
  internal: 500,
};

export const statusOf = (code: ErrorCode): number => HTTP_STATUS[code];

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/**
 * How a sync socket refused with a code is closed (after a `refused` frame
 * with it): the codes of a failed token or a revoked session, of opening a
 * document (hub.open), of too many sockets or upgrades, of a document
 * dropped after a failure (RESYNC_REFUSALS) and of a socket that does not
 * read. The close code tells a stock y-websocket client whether to reconnect
 * (see CLOSE_CODES).
 */
const SOCKET_CLOSE: Partial<Record<ErrorCode, CloseCode>> = {
  'token-missing': CLOSE_CODES.unauthorized,
  'token-expired': CLOSE_CODES.unauthorized,
  'token-invalid': CLOSE_CODES.unauthorized,
  'session-revoked': CLOSE_CODES.unauthorized,
  'not-member': CLOSE_CODES.forbidden,
  'not-owner-doc': CLOSE_CODES.forbidden,
  'user-not-found': CLOSE_CODES.forbidden,
  'not-found': CLOSE_CODES.notFound,
  'too-many-sockets': CLOSE_CODES.tooMany,
  'too-many-docs': CLOSE_CODES.tooMany,
  'rate-limited': CLOSE_CODES.tooMany,
  'storage-full': CLOSE_CODES.resync,
  'storage-unavailable': CLOSE_CODES.resync,
  'doc-moved': CLOSE_CODES.resync,
  internal: CLOSE_CODES.resync,
  'socket-too-slow': CLOSE_CODES.tooSlow,
};

/** The close code after a `refused` frame; a code with none of its own closes as forbidden: do not reconnect to ask again. */
export const closeCodeOf = (code: ErrorCode): CloseCode => SOCKET_CLOSE[code] ?? CLOSE_CODES.forbidden;

/** Parses a body with a protocol schema; a mismatch is a `bad-request` refusal saying which fields. */
export function parseBody<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: ZodError } }, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new Refusal('bad-request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}
