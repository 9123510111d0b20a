/**
 * Wire constants of Parley's sync endpoint.
 *
 * A socket at `/sync/<document path>?token=<access token>` speaks the stock
 * y-websocket protocol (message types 0 = sync, 1 = awareness,
 * 3 = query-awareness). Parley adds one message type, CONTROL, whose payload is
 * one varString holding a JSON ControlFrame. Stock clients ignore unknown types.
 */
import type { ErrorCode } from './codes.ts';

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
} as const;

export type ControlFrame =
  /** The update that carried these client clocks is durably stored. */
  | { type: 'ack'; client: number; clock: number; msgIds: string[] }
  /** The update was refused; nothing of it was applied. */
  | { type: 'reject'; code: ErrorCode; message: string; msgIds: string[] }
  /** The connection was refused before any sync frame (sent just before close). */
  | { type: 'refused'; code: ErrorCode; message: string };

export function parseControlFrame(text: string): ControlFrame | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'type' in value) {
      const type = (value as { type: unknown }).type;
      if (type === 'ack' || type === 'reject' || type === 'refused') return value as ControlFrame;
    }
  } catch {
    // fall through: not a control frame
  }
  return null;
}
