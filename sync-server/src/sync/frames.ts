/**
 * Encoders of the messages the server sends: y-websocket sync and awareness
 * messages, and Parley's control frames (MESSAGE_CONTROL + a varString of JSON).
 */
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { MESSAGE_AWARENESS, MESSAGE_CONTROL, MESSAGE_SYNC, type ControlFrame } from '@parley/protocol';

export function controlMessage(frame: ControlFrame): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_CONTROL);
  encoding.writeVarString(encoder, JSON.stringify(frame));
  return encoding.toUint8Array(encoder);
}

/** A y-websocket sync message: its subtype (step 1, step 2, update) and payload. */
function syncMessage(subtype: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  encoding.writeVarUint(encoder, subtype);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

/** Sync step 1: the server's state vector, asking the client for what it lacks. */
export const syncStep1Message = (stateVector: Uint8Array): Uint8Array => syncMessage(syncProtocol.messageYjsSyncStep1, stateVector);

/** Sync step 2: what the client lacks, answering its step 1. */
export const syncStep2Message = (update: Uint8Array): Uint8Array => syncMessage(syncProtocol.messageYjsSyncStep2, update);

/** An update accepted after the initial sync. */
export const syncUpdateMessage = (update: Uint8Array): Uint8Array => syncMessage(syncProtocol.messageYjsUpdate, update);

export function awarenessMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}
