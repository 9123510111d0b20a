/**
 * Sends a document's updates to the server in pieces within the limits the
 * server announced (the `limits` control frame, sent at open before its sync
 * step 1; protocol's defaults until then). Stock y-websocket answers the
 * server's step 1 with everything the server lacks in one frame, and sends
 * each local transaction as one frame: a device back from a long offline
 * spell then sends one frame over the server's frame limit, which is closed
 * (1009) on every reconnect for ever, or one update over its budget, refused
 * for ever. Here both go through protocol's splitUpdate, each piece its own
 * frame; the server acknowledges each piece (`ack` names its client and
 * clock) or refuses it, and the hub handles those as for any update.
 *
 * Plugged into the provider where y-websocket lets a client plug in: its
 * sync message handler (`messageHandlers[MESSAGE_SYNC]`) and its document
 * update handler (`_updateHandler`, which `destroy` detaches). Imports nothing
 * of the browser, so the server's tests run this very code.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { DEFAULT_SYNC_LIMITS, MESSAGE_SYNC, splitLimitsOf, splitUpdate, type SplitLimits, type SyncLimits } from '@parley/protocol';

export interface Pieces {
  /** The server's limits (its `limits` frame): pieces from now on fit them. */
  heard(limits: SyncLimits): void;
}

/** Makes `provider` send its updates in pieces; call before it connects. */
export function sendInPieces(provider: WebsocketProvider): Pieces {
  let limits: SplitLimits = splitLimitsOf(DEFAULT_SYNC_LIMITS);
  const doc = provider.doc;

  /** Each piece of `update` as its own sync frame, in order, while the socket is open (otherwise the next step 1 asks again). */
  const send = (subtype: number, update: Uint8Array): void => {
    for (const piece of piecesOf(update, limits)) {
      const ws = provider.ws;
      if (!provider.wsconnected || ws === null || ws.readyState !== ws.OPEN) return;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      encoding.writeVarUint(encoder, subtype);
      encoding.writeVarUint8Array(encoder, piece);
      ws.send(encoding.toUint8Array(encoder));
    }
  };

  // The server's sync messages: its step 1 is answered in pieces; its step 2 and updates are applied as y-websocket does.
  provider.messageHandlers[MESSAGE_SYNC] = (_encoder, decoder, p, emitSynced) => {
    const subtype = decoding.readVarUint(decoder);
    if (subtype === syncProtocol.messageYjsSyncStep1) {
      send(syncProtocol.messageYjsSyncStep2, Y.encodeStateAsUpdate(doc, decoding.readVarUint8Array(decoder)));
      return;
    }
    if (subtype !== syncProtocol.messageYjsSyncStep2 && subtype !== syncProtocol.messageYjsUpdate) return;
    syncProtocol.readSyncStep2(decoder, doc, p);
    if (emitSynced && subtype === syncProtocol.messageYjsSyncStep2 && !p.synced) p.synced = true;
  };

  // Local transactions, in pieces too (a reset re-applies a whole outbox in one).
  doc.off('update', provider._updateHandler);
  provider._updateHandler = (update: Uint8Array, origin: unknown) => {
    if (origin !== provider) send(syncProtocol.messageYjsUpdate, update);
  };
  doc.on('update', provider._updateHandler);

  return {
    heard(announced) {
      limits = splitLimitsOf(announced);
    },
  };
}

/** `update` in pieces; a copy that cannot be read (never one Yjs encoded) goes whole, for the server to judge. */
function piecesOf(update: Uint8Array, limits: SplitLimits): Uint8Array[] {
  try {
    return splitUpdate(update, limits);
  } catch {
    return [update];
  }
}
