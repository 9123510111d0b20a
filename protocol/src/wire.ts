/**
 * Wire constants of Parley's sync endpoint.
 *
 * A socket at `/sync/<document path>?token=<access token>` speaks the stock
 * y-websocket protocol (message types 0 = sync, 1 = awareness,
 * 3 = query-awareness). Parley adds one message type, CONTROL, whose payload is
 * one varString holding a JSON ControlFrame. Stock clients ignore unknown types.
 */
import { z } from 'zod';
import { type ErrorCode, isErrorCode } from './codes.ts';

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_QUERY_AWARENESS = 3;
export const MESSAGE_CONTROL = 20;

export const SYNC_PATH_PREFIX = '/sync/';
export const API_PREFIX = '/api/v1';

/** WebSocket close codes (4000-4999 are for applications). */
export const CLOSE_CODES = {
  /** Auth failed: the token is missing, expired or forged. Do not reconnect with it. */
  unauthorized: 4401,
  /** The user may not open this document. Do not reconnect. */
  forbidden: 4403,
  /** The document path is not one Parley knows. */
  notFound: 4404,
  /**
   * The account holds too many sockets or documents open (too-many-sockets,
   * too-many-docs), or opened sockets too fast (rate-limited: reconnect after
   * the `refused` frame's `retryAfter` seconds). Stock y-websocket clients
   * stop on 44xx; Parley's web client tries again later, backing off, while
   * other tabs close theirs.
   */
  tooMany: 4429,
  /**
   * The socket did not read what the server sent: its unsent bytes passed
   * PARLEY_MAX_SOCKET_BUFFER_BYTES (reason `socket-too-slow`). In the 45xx
   * "try again later" range, so y-websocket reconnects by itself and syncs
   * what it missed; like the unofficial HTTP 509, "bandwidth limit exceeded".
   * A client that reads nothing may never see this frame (it waits behind
   * what the client did not read): it sees the connection drop (1006) and
   * reconnects the same way.
   */
  tooSlow: 4509,
  /**
   * The server dropped its copy of the document from memory (a write it could
   * not store, storage-full or storage-unavailable; an update it could not
   * apply, internal), after a `refused` frame with the code. Nothing the
   * client did not see acknowledged is stored: reconnect (y-websocket does,
   * backing off, on anything outside 4400-4499) and sync again.
   */
  resync: 4503,
} as const;

/**
 * The codes of a `refused` frame sent on an open socket whose document the
 * server dropped after a failure (closed with CLOSE_CODES.resync): for now,
 * not for good. The client reconnects and syncs again.
 */
export const RESYNC_REFUSALS: readonly ErrorCode[] = ['storage-full', 'storage-unavailable', 'internal', 'doc-moved'];

/**
 * RFC 6455's "protocol error": the server closes a socket that sent too many
 * frames it could not read (PARLEY_MAX_MALFORMED_FRAMES). A client may
 * reconnect (y-websocket backs off); a client that only sends garbage is
 * closed again.
 */
export const CLOSE_MALFORMED = 1002;

/**
 * RFC 6455's "service restart": the server process is shutting down (SIGTERM,
 * after it drained: PARLEY_DRAIN_MS) and closes every sync socket with this.
 * Not a refusal, so no `refused` frame comes before it: y-websocket (and
 * Parley's web client) reconnect at once on anything outside 4400-4499, and
 * a proxy in front sends the new socket to a process that stays.
 */
export const CLOSE_SERVICE_RESTART = 1012;

/**
 * What the server takes from one client (the `limits` frame, sent at open,
 * before its sync step 1); a client that has not heard them assumes these,
 * the server's defaults. A client sends its updates in pieces within them
 * (split.ts), so that no frame is closed for its size (1009) and no update is
 * refused for it (`update-too-large`) or for holding more writes than a full
 * bucket of the write rate (`slow-down` for ever).
 */
export interface SyncLimits {
  /** PARLEY_MAX_FRAME_BYTES: a larger frame closes the socket (1009). */
  maxFrameBytes: number;
  /** PARLEY_MAX_UPDATE_BYTES: a larger update is refused (`update-too-large`). */
  maxUpdateBytes: number;
  /** PARLEY_MAX_UPDATE_STRUCTS: more structs plus deletion ranges are refused (`update-too-large`). */
  maxUpdateStructs: number;
  /** PARLEY_MESSAGE_BURST: new messages, edits, reactions and actions a user may write at once. */
  writeBurst: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxUpdateBytes: 4 * 1024 * 1024,
  maxUpdateStructs: 10_000,
  writeBurst: 50,
};

const count = z.number().int().positive();
const code = z.string().refine(isErrorCode) as unknown as z.ZodType<ErrorCode>;
const ControlFrame = z.discriminatedUnion('type', [
  /** The update that carried these client clocks is durably stored; `clock` is the next expected clock. */
  z.object({ type: z.literal('ack'), client: z.number(), clock: z.number(), msgIds: z.array(z.string()) }),
  /** The update was refused; nothing of it was applied. `retryAfterMs`: when sending it again may succeed (`slow-down`). */
  z.object({ type: z.literal('reject'), code, message: z.string(), msgIds: z.array(z.string()), retryAfterMs: z.number().int().nonnegative().optional() }),
  /** What the server takes from this connection (SyncLimits): sent at open, before the sync step 1. */
  z.object({ type: z.literal('limits'), maxFrameBytes: count, maxUpdateBytes: count, maxUpdateStructs: count, writeBurst: count }),
  /**
   * On a conversation's socket: the other member as this viewer may see them
   * (protocol/src/privacy.ts), at open and at each change. `online`: a device
   * of theirs holds the app open; `lastSeen` (ms): when the last one closed,
   * absent while online or when not shown; `readReceipts`: read receipts flow
   * in this conversation (both members have them on), so the app writes and
   * shows them only then.
   */
  z.object({ type: z.literal('peer'), user: z.string(), online: z.boolean(), lastSeen: z.number().optional(), readReceipts: z.boolean() }),
  /** On the user's inbox socket: their own privacy settings, at open and at each change (on any device). */
  z.object({ type: z.literal('privacy'), readReceipts: z.boolean(), presence: z.enum(['everyone', 'contacts', 'nobody']), discoverable: z.boolean() }),
  /** The connection was refused before any sync frame (sent just before close). */
  z.object({
    type: z.literal('refused'),
    code,
    message: z.string(),
    /** Seconds to wait before trying again (a `rate-limited` refusal). */
    retryAfter: z.number().int().positive().optional(),
  }),
]);
export type ControlFrame = z.infer<typeof ControlFrame>;

/** Parses a control frame's JSON; null when it is not a well-formed frame. */
export function parseControlFrame(text: string): ControlFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = ControlFrame.safeParse(value);
  return parsed.success ? parsed.data : null;
}
