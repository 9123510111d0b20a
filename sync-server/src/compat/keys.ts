/**
 * How the hosted service's message identities map onto Parley's.
 *
 * - `MsgKey` is the Parley message id: opaque to a backend, it names the
 *   message for admin_msgwithdraw and modify_c2c_msg without a lookup table.
 * - `MsgRandom` travels inside the id of a message sent through `/v4/`: the
 *   id is 8 bytes of SHA-256(from, to, random, UTC day) then the 4 bytes of
 *   the random, base64url. A retry of the same send (same random, same day)
 *   makes the same id, which the conversation document holds already: the
 *   hosted service's de-duplication, without a table. Any other message's
 *   random is read from its id's last 4 bytes the same way.
 * - `MsgSeq` is the conversation's sequence number, `MsgTime` the time in
 *   seconds.
 */
import { createHash } from 'node:crypto';

const DAY_MS = 24 * 3600_000;

export function compatMessageId(from: string, to: string, random: number, now: number): string {
  const day = Math.floor(now / DAY_MS);
  const head = createHash('sha256').update(`${from}\n${to}\n${random}\n${day}`).digest().subarray(0, 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(random >>> 0);
  return Buffer.concat([head, tail]).toString('base64url');
}

/** The random a message's id carries (its last 4 bytes); 0 for an id too short to carry one. */
export function msgRandomOf(id: string): number {
  const bytes = Buffer.from(id, 'base64url');
  return bytes.length >= 4 ? bytes.readUInt32BE(bytes.length - 4) : 0;
}

/**
 * The id of a message imported through `/v4/openim/importmsg`: the hosted
 * service de-duplicates imports on (MsgSeq, MsgRandom, MsgTimeStamp), and
 * an import skips an id its document holds, so the same three make one id.
 */
export function importedMessageId(from: string, to: string, seq: number, random: number, time: number): string {
  const head = createHash('sha256').update(`${from}\n${to}\n${seq}\n${random}\n${time}`).digest().subarray(0, 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(random >>> 0);
  return Buffer.concat([head, tail]).toString('base64url');
}
