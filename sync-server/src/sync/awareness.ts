/**
 * Awareness (typing, online devices) is relayed, never stored. The server
 * overwrites each state's `user` with the connection's authenticated user, so
 * nobody can appear as someone else.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export interface RewrittenAwareness {
  update: Uint8Array;
  /** Client ids with a state (alive) and with a null state (removed). */
  alive: number[];
  removed: number[];
}

export function rewriteAwareness(update: Uint8Array, user: string): RewrittenAwareness {
  const decoder = decoding.createDecoder(update);
  const encoder = encoding.createEncoder();
  const alive: number[] = [];
  const removed: number[] = [];
  const count = decoding.readVarUint(decoder);
  encoding.writeVarUint(encoder, count);
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state: unknown = JSON.parse(decoding.readVarString(decoder));
    const isState = typeof state === 'object' && state !== null && !Array.isArray(state);
    (state === null ? removed : alive).push(client);
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(isState ? { ...state, user } : state === null ? null : { user }));
  }
  return { update: encoding.toUint8Array(encoder), alive, removed };
}
