/**
 * A cheap first look at a Yjs update (format v1), before anything decodes it
 * in full: how many bytes and structs it holds, and how many new writes that
 * the per-user rate counts (messages, edits, reactions, actions). It walks the
 * bytes once and builds no Items and no JSON values, so refusing an update
 * that no honest client sends (a 9 MB update of 400,000 tiny items) costs
 * microseconds, not the seconds a full decode and validation would.
 *
 * Update v1: varuint number of client sections; per section varuint
 * numberOfStructs, varuint client, varuint clock, then the structs (GC, Skip or
 * Item: info byte, optional origin / right origin ids, the parent — a root
 * name or an id — and key when neither origin is set, then the content); then
 * the delete set: varuint clients, per client varuint ranges of (clock, len).
 */
import * as decoding from 'lib0/decoding';

export interface UpdateBudget {
  /** The most bytes one update may hold. */
  maxBytes: number;
  /** The most structs (items, GC and skip runs) plus delete-set ranges one update may hold. */
  maxStructs: number;
}

/** Root maps of a conversation whose new keys the per-user write rate counts. */
export const COUNTED_ROOTS: ReadonlySet<string> = new Set(['messages', 'edits', 'reactions', 'actions']);

export type ScanResult =
  | {
      ok: true;
      structs: number;
      /** New keys with content in COUNTED_ROOTS the server does not have yet. */
      writes: number;
      /** The keys of new `messages` items among them. */
      msgIds: string[];
    }
  | { ok: false; reason: 'bytes' | 'structs' | 'malformed'; detail: string };

/** Values nested deeper than this are refused unread (Yjs's own reader would recurse on them). */
const MAX_DEPTH = 64;

/** A malformed update: thrown by the readers below, caught by their callers. */
export class Malformed extends Error {}

function need(decoder: decoding.Decoder, n: number): void {
  if (n < 0 || decoder.pos + n > decoder.arr.length) throw new Malformed('unexpected end of update');
}

function skipBytes(decoder: decoding.Decoder): void {
  const len = decoding.readVarUint(decoder);
  need(decoder, len);
  decoder.pos += len;
}

export function readByte(decoder: decoding.Decoder): number {
  need(decoder, 1);
  return decoding.readUint8(decoder);
}

/** Skips one lib0 `any` value without building it. */
function skipAny(decoder: decoding.Decoder, depth: number): void {
  if (depth > MAX_DEPTH) throw new Malformed('value nested too deep');
  const type = readByte(decoder);
  switch (type) {
    case 127: // undefined
    case 126: // null
    case 121: // false
    case 120: // true
      return;
    case 125:
      decoding.readVarInt(decoder);
      return;
    case 124:
      need(decoder, 4);
      decoder.pos += 4;
      return;
    case 123:
    case 122:
      need(decoder, 8);
      decoder.pos += 8;
      return;
    case 119: // string
    case 116: // Uint8Array
      skipBytes(decoder);
      return;
    case 118: {
      // object: key string, value
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) {
        skipBytes(decoder);
        skipAny(decoder, depth + 1);
      }
      return;
    }
    case 117: {
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) skipAny(decoder, depth + 1);
      return;
    }
    default:
      throw new Malformed(`unknown value type ${type}`);
  }
}

/** A varString; short ASCII ones (root names, keys) without a TextDecoder call each. */
export function readShortString(decoder: decoding.Decoder): string {
  const start = decoder.pos;
  const len = decoding.readVarUint(decoder);
  need(decoder, len);
  if (len > 64) {
    decoder.pos = start;
    return decoding.readVarString(decoder);
  }
  let text = '';
  for (let i = decoder.pos; i < decoder.pos + len; i++) {
    const byte = decoder.arr[i] ?? 0;
    if (byte >= 0x80) {
      decoder.pos = start;
      return decoding.readVarString(decoder);
    }
    text += String.fromCharCode(byte);
  }
  decoder.pos += len;
  return text;
}

/** UTF-16 length of a varString, which is how Yjs counts a string's clock length. */
function stringLength(decoder: decoding.Decoder): number {
  const len = decoding.readVarUint(decoder);
  need(decoder, len);
  let units = 0;
  for (let i = decoder.pos; i < decoder.pos + len; i++) {
    const byte = decoder.arr[i] ?? 0;
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  decoder.pos += len;
  return units;
}

/** Skips an item's content; returns its clock length. */
export function skipContent(decoder: decoding.Decoder, ref: number): number {
  switch (ref) {
    case 1: // ContentDeleted
      return decoding.readVarUint(decoder);
    case 2: {
      // ContentJSON
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) skipBytes(decoder);
      return n;
    }
    case 3: // ContentBinary
    case 5: // ContentEmbed
      skipBytes(decoder);
      return 1;
    case 4: // ContentString
      return stringLength(decoder);
    case 6: // ContentFormat
      skipBytes(decoder);
      skipBytes(decoder);
      return 1;
    case 7: {
      // ContentType: XmlElement (3) and XmlHook (5) carry a name
      const typeRef = decoding.readVarUint(decoder);
      if (typeRef === 3 || typeRef === 5) skipBytes(decoder);
      return 1;
    }
    case 8: {
      // ContentAny
      const n = decoding.readVarUint(decoder);
      for (let i = 0; i < n; i++) skipAny(decoder, 0);
      return n;
    }
    case 9: // ContentDoc
      skipBytes(decoder);
      skipAny(decoder, 0);
      return 1;
    default:
      throw new Malformed(`unknown content ${ref}`);
  }
}

/**
 * Walks `update` within `budget`. `have(client)`: the next clock the server
 * expects of a client (its state), so that structs it holds already (a client
 * re-sends what it cannot know was stored) are not counted as new writes.
 * Stops at the first struct over the budget; an update over `maxBytes` is
 * refused without reading it at all.
 */
export function scanUpdate(update: Uint8Array, budget: UpdateBudget, have: (client: number) => number = () => 0): ScanResult {
  if (update.length > budget.maxBytes) return { ok: false, reason: 'bytes', detail: `${update.length} bytes, over ${budget.maxBytes}` };
  const overStructs = (n: number): ScanResult => ({ ok: false, reason: 'structs', detail: `over ${budget.maxStructs} structs (${n} and counting)` });
  const decoder = decoding.createDecoder(update);
  let structs = 0;
  let writes = 0;
  const msgIds: string[] = [];
  try {
    const sections = decoding.readVarUint(decoder);
    if (sections > budget.maxStructs) return overStructs(sections);
    for (let s = 0; s < sections; s++) {
      const count = decoding.readVarUint(decoder);
      structs += count;
      if (structs > budget.maxStructs) return overStructs(structs);
      const client = decoding.readVarUint(decoder);
      let clock = decoding.readVarUint(decoder);
      const known = have(client);
      for (let i = 0; i < count; i++) {
        const info = readByte(decoder);
        const ref = info & 0b11111;
        if (ref === 0 || ref === 10) {
          // GC, Skip: a run of clocks
          clock += decoding.readVarUint(decoder);
          continue;
        }
        const hasOrigin = (info & 0x80) !== 0;
        const hasRightOrigin = (info & 0x40) !== 0;
        if (hasOrigin) {
          decoding.readVarUint(decoder);
          decoding.readVarUint(decoder);
        }
        if (hasRightOrigin) {
          decoding.readVarUint(decoder);
          decoding.readVarUint(decoder);
        }
        let root: string | null = null;
        let key: string | null = null;
        if (!hasOrigin && !hasRightOrigin) {
          if (decoding.readVarUint(decoder) === 1) {
            root = readShortString(decoder);
          } else {
            decoding.readVarUint(decoder);
            decoding.readVarUint(decoder);
          }
          if ((info & 0x20) !== 0) key = readShortString(decoder);
        }
        const length = skipContent(decoder, ref);
        if (root !== null && key !== null && ref !== 1 && COUNTED_ROOTS.has(root) && clock + length > known) {
          writes++;
          if (root === 'messages') msgIds.push(key);
        }
        clock += length;
      }
    }
    // The delete set: every range is work for the validator too.
    const dsClients = decoding.readVarUint(decoder);
    structs += dsClients;
    if (structs > budget.maxStructs) return overStructs(structs);
    for (let c = 0; c < dsClients; c++) {
      decoding.readVarUint(decoder);
      const ranges = decoding.readVarUint(decoder);
      structs += ranges;
      if (structs > budget.maxStructs) return overStructs(structs);
      for (let r = 0; r < ranges; r++) {
        decoding.readVarUint(decoder);
        decoding.readVarUint(decoder);
      }
    }
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: e instanceof Error ? e.message : String(e) };
  }
  return { ok: true, structs, writes, msgIds };
}
