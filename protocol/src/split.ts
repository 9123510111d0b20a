/**
 * Splits one Yjs update (format v1, see scan.ts) into several that each fit
 * the server's limits, so that a device back from a long offline spell sends
 * what it wrote in frames the server takes, instead of one frame over the
 * socket's limit that is closed (1009) on every reconnect.
 *
 * Guarantees, for an update a Y.Doc encoded: applying the pieces in order
 * gives the same document as applying the whole, and after each piece the
 * receiver holds no pending structs and no pending deletions, provided it held
 * what the whole update builds on. That is because:
 *
 * - a client's structs are cut only between structs and copied byte for byte
 *   (each item encodes its own origin, right origin and parent), a piece's
 *   run starting at the clock after the structs before it;
 * - a struct goes out only once every struct it refers to (origin, right
 *   origin, parent id) is in an earlier piece or the same one, whichever
 *   client wrote it; references outside the update are the receiver's;
 * - the delete set goes last, after every struct it may cover.
 *
 * Each piece holds at most `maxBytes` bytes, `maxStructs` structs plus
 * deletion ranges (counted as scan.ts counts them) and `maxWrites` new keys
 * that the write rate counts, except a single struct (or deletion range)
 * larger than the limits, which goes alone (the server refuses it; no split
 * can help).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { COUNTED_ROOTS, Malformed, readByte, readShortString, scanUpdate, skipContent } from './scan.ts';
import type { SyncLimits } from './wire.ts';

export interface SplitLimits {
  /** The most bytes one piece may hold. */
  maxBytes: number;
  /** The most structs plus deletion ranges one piece may hold. */
  maxStructs: number;
  /** The most new keys of the rate-counted roots (messages, edits, reactions, actions) one piece may hold. */
  maxWrites: number;
}

/** The room a sync frame takes around its update: message type, sync subtype and the update's length. */
export const SYNC_FRAME_OVERHEAD = 16;

/** The pieces a client sends under the server's limits: each in a frame under its limit, each update within its budget. */
export function splitLimitsOf(limits: SyncLimits): SplitLimits {
  return {
    maxBytes: Math.min(limits.maxUpdateBytes, limits.maxFrameBytes - SYNC_FRAME_OVERHEAD),
    maxStructs: limits.maxUpdateStructs,
    maxWrites: limits.writeBurst,
  };
}

/** One struct of a client's run: where its bytes are and what it needs first. */
interface Struct {
  start: number;
  end: number;
  clock: number;
  length: number;
  /** A Skip: clocks this update does not carry. */
  skip: boolean;
  /** Whether the write rate counts it (a new key with content in a counted root). */
  counted: boolean;
  /** The ids it refers to, as client, clock pairs. */
  refs: number[];
}

interface Section {
  client: number;
  structs: Struct[];
  /** Index of the next struct to place. */
  next: number;
}

interface Deletions {
  client: number;
  /** clock, len pairs */
  ranges: number[];
}

/** The room a section header takes at most: struct count, client and clock, each a varuint of up to 8 bytes (JavaScript's safe integers). */
const SECTION_HEADER_BYTES = 24;
/** The room the count of sections, or of deletion clients, takes at most. */
const COUNT_BYTES = 8;

function varUintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

function readId(decoder: decoding.Decoder, refs: number[]): void {
  refs.push(decoding.readVarUint(decoder), decoding.readVarUint(decoder));
}

/** Reads one struct at `clock`; the decoder ends after it. */
function readStruct(decoder: decoding.Decoder, clock: number): Struct {
  const start = decoder.pos;
  const info = readByte(decoder);
  const ref = info & 0b11111;
  if (ref === 0 || ref === 10) {
    const length = decoding.readVarUint(decoder);
    return { start, end: decoder.pos, clock, length, skip: ref === 10, counted: false, refs: [] };
  }
  const refs: number[] = [];
  const hasOrigin = (info & 0x80) !== 0;
  const hasRightOrigin = (info & 0x40) !== 0;
  if (hasOrigin) readId(decoder, refs);
  if (hasRightOrigin) readId(decoder, refs);
  let root: string | null = null;
  let key: string | null = null;
  if (!hasOrigin && !hasRightOrigin) {
    if (decoding.readVarUint(decoder) === 1) root = readShortString(decoder);
    else readId(decoder, refs);
    if ((info & 0x20) !== 0) key = readShortString(decoder);
  }
  const length = skipContent(decoder, ref);
  if (length < 1) throw new Malformed('an item of no length');
  const counted = root !== null && key !== null && ref !== 1 && COUNTED_ROOTS.has(root);
  return { start, end: decoder.pos, clock, length, skip: false, counted, refs };
}

function readUpdate(update: Uint8Array): { sections: Section[]; deletions: Deletions[] } {
  const decoder = decoding.createDecoder(update);
  const sections: Section[] = [];
  const count = decoding.readVarUint(decoder);
  for (let s = 0; s < count; s++) {
    const structs = decoding.readVarUint(decoder);
    const client = decoding.readVarUint(decoder);
    let clock = decoding.readVarUint(decoder);
    const section: Section = { client, structs: [], next: 0 };
    for (let i = 0; i < structs; i++) {
      const struct = readStruct(decoder, clock);
      section.structs.push(struct);
      clock += struct.length;
    }
    sections.push(section);
  }
  const deletions: Deletions[] = [];
  const clients = decoding.readVarUint(decoder);
  for (let c = 0; c < clients; c++) {
    const client = decoding.readVarUint(decoder);
    const n = decoding.readVarUint(decoder);
    const ranges: number[] = [];
    for (let r = 0; r < n; r++) ranges.push(decoding.readVarUint(decoder), decoding.readVarUint(decoder));
    deletions.push({ client, ranges });
  }
  return { sections, deletions };
}

/** One piece being filled: per section, the run of structs it takes, and its deletions. */
class Piece {
  /** Section index → [first, end) struct indexes. */
  readonly runs = new Map<number, [number, number]>();
  readonly deletions: Deletions[] = [];
  bytes = 2 * COUNT_BYTES;
  structs = 0;
  writes = 0;

  get empty(): boolean {
    return this.structs === 0;
  }

  /** Whether `struct` of section `index` fits within `limits`. */
  fits(index: number, struct: Struct, limits: SplitLimits): boolean {
    const header = this.runs.has(index) ? 0 : SECTION_HEADER_BYTES;
    return (
      this.bytes + header + struct.end - struct.start <= limits.maxBytes &&
      this.structs + 1 <= limits.maxStructs &&
      this.writes + (struct.counted ? 1 : 0) <= limits.maxWrites
    );
  }

  add(index: number, struct: Struct, at: number): void {
    const run = this.runs.get(index);
    if (run === undefined) {
      this.runs.set(index, [at, at + 1]);
      this.bytes += SECTION_HEADER_BYTES;
    } else run[1] = at + 1;
    this.bytes += struct.end - struct.start;
    this.structs++;
    if (struct.counted) this.writes++;
  }

  /**
   * Adds as many of `from`'s ranges (from range `first`) as fit, at least one
   * to an empty piece; returns the index of the first range left out.
   */
  addDeletions(from: Deletions, first: number, limits: SplitLimits): number {
    const entry: Deletions = { client: from.client, ranges: [] };
    const empty = this.empty && this.deletions.length === 0;
    let bytes = this.bytes + SECTION_HEADER_BYTES;
    let structs = this.structs + 1;
    let r = first;
    for (; r < from.ranges.length / 2; r++) {
      const size = varUintBytes(from.ranges[2 * r] ?? 0) + varUintBytes(from.ranges[2 * r + 1] ?? 0);
      const fits = bytes + size <= limits.maxBytes && structs + 1 <= limits.maxStructs;
      if (!fits && !(empty && r === first)) break;
      entry.ranges.push(from.ranges[2 * r] ?? 0, from.ranges[2 * r + 1] ?? 0);
      bytes += size;
      structs++;
    }
    if (r > first) {
      this.deletions.push(entry);
      this.bytes = bytes;
      this.structs = structs;
    }
    return r;
  }

  encode(update: Uint8Array, sections: readonly Section[]): Uint8Array {
    const encoder = encoding.createEncoder();
    // In the update's own order: Yjs writes clients highest first, so a piece reads as Yjs would encode it.
    const indexes = [...this.runs.keys()].sort((p, q) => p - q);
    encoding.writeVarUint(encoder, indexes.length);
    for (const index of indexes) {
      const section = sections[index];
      const [first, end] = this.runs.get(index) ?? [0, 0];
      const head = section?.structs[first];
      const last = section?.structs[end - 1];
      if (section === undefined || head === undefined || last === undefined) throw new Error('a run outside its section');
      encoding.writeVarUint(encoder, end - first);
      encoding.writeVarUint(encoder, section.client);
      encoding.writeVarUint(encoder, head.clock);
      encoding.writeUint8Array(encoder, update.subarray(head.start, last.end));
    }
    encoding.writeVarUint(encoder, this.deletions.length);
    for (const { client, ranges } of this.deletions) {
      encoding.writeVarUint(encoder, client);
      encoding.writeVarUint(encoder, ranges.length / 2);
      for (const n of ranges) encoding.writeVarUint(encoder, n);
    }
    return encoding.toUint8Array(encoder);
  }
}

/**
 * Where each client's structs are placed so far: a reference is met once the
 * struct holding its clock is placed, or when the update does not carry that
 * clock at all (the receiver has it, or it is as missing there as here).
 */
class Placement {
  private readonly byClient = new Map<number, Section>();

  constructor(sections: readonly Section[]) {
    for (const section of sections) if (section.structs.length > 0) this.byClient.set(section.client, section);
  }

  met(client: number, clock: number): boolean {
    const section = this.byClient.get(client);
    if (section === undefined) return true;
    const placed = section.structs[section.next - 1];
    if (placed !== undefined && clock < placed.clock + placed.length) return true;
    const holder = this.holder(section, clock);
    return holder === undefined || holder.skip;
  }

  /** The struct of `section` whose clocks include `clock`. */
  private holder(section: Section, clock: number): Struct | undefined {
    let low = 0;
    let high = section.structs.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const struct = section.structs[mid];
      if (struct === undefined) return undefined;
      if (clock < struct.clock) high = mid - 1;
      else if (clock >= struct.clock + struct.length) low = mid + 1;
      else return struct;
    }
    return undefined;
  }

  ready(struct: Struct): boolean {
    for (let i = 0; i < struct.refs.length; i += 2) if (!this.met(struct.refs[i] ?? 0, struct.refs[i + 1] ?? 0)) return false;
    return true;
  }
}

/**
 * `update` as pieces within `limits`, to be sent and applied in order; the
 * update itself, unchanged, when it fits. Throws on a malformed update (one
 * Yjs could not read either) or structs that refer to each other in a cycle.
 */
export function splitUpdate(update: Uint8Array, limits: SplitLimits): Uint8Array[] {
  const scan = scanUpdate(update, { maxBytes: limits.maxBytes, maxStructs: limits.maxStructs });
  if (scan.ok && scan.writes <= limits.maxWrites) return [update];
  if (!scan.ok && scan.reason === 'malformed') throw new Malformed(scan.detail);
  let read: ReturnType<typeof readUpdate>;
  try {
    read = readUpdate(update);
  } catch (error) {
    if (error instanceof Malformed) throw error;
    throw new Malformed(error instanceof Error ? error.message : String(error));
  }
  const { sections, deletions } = read;
  const placement = new Placement(sections);
  const pieces: Uint8Array[] = [];
  let piece = new Piece();
  const close = (): void => {
    pieces.push(piece.encode(update, sections));
    piece = new Piece();
  };

  let left = sections.reduce((n, s) => n + s.structs.length, 0);
  while (left > 0) {
    let placed = 0;
    sections.forEach((section, index) => {
      for (let struct = section.structs[section.next]; struct !== undefined && placement.ready(struct); struct = section.structs[section.next]) {
        if (!piece.fits(index, struct, limits) && !piece.empty) close();
        piece.add(index, struct, section.next);
        section.next++;
        placed++;
      }
    });
    if (placed === 0) throw new Malformed('structs refer to each other in a cycle');
    left -= placed;
  }

  // Deletions last: they may cover any struct above, and the server refuses deletions of clocks it does not hold.
  for (const entry of deletions) {
    let next = 0;
    while (next < entry.ranges.length / 2) {
      const after = piece.addDeletions(entry, next, limits);
      if (after === next) close();
      next = after;
    }
  }
  if (!piece.empty || piece.deletions.length > 0 || pieces.length === 0) close();
  return pieces;
}
