/**
 * What the hostile accounts of the sync fuzzer send: y-websocket frames,
 * random and mutated, drawn from a seeded PRNG (lib0/prng) so that a seed
 * replays the same sequence of frames per worker.
 *
 * Every frame starts from something real where it can: `HonestWriter` keeps a
 * Y.Doc under the session's user and makes the frames an honest client of
 * that document sends (a new message, a receipt, a reaction, an edit, a
 * recall, a prefs setting, sync step 1 and 2, its awareness). A frame is one
 * of those as it is (some are accepted, so the server also stores, stamps and
 * relays while it is attacked), or mutated (truncated, bits flipped, a length
 * prefix that lies), or crafted by hand in the Yjs v1 update format with one
 * field made hostile (huge varuints, nested-any bombs, repeated structs,
 * references to future clocks, delete sets of clocks nobody holds), or an
 * awareness state of odd JSON, a Parley control frame (type 20) sent the wrong
 * way, a message type nobody knows, or random bytes.
 */
import * as encoding from 'lib0/encoding';
import * as prng from 'lib0/prng';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { MESSAGE_AWARENESS, MESSAGE_CONTROL, MESSAGE_QUERY_AWARENESS, MESSAGE_SYNC, type DocPath } from '@parley/protocol';

export type Rng = prng.PRNG;

export const createRng = (seed: number): Rng => prng.create(seed);

export interface Frame {
  /** What made it (`honest/message`, `mutate/bitflip`, `craft/future-origin`, …): the report counts frames by kind. */
  kind: string;
  bytes: Uint8Array;
}

/** Varuints a decoder must refuse or survive: the edges of 7, 32 and 53 bits. */
const HUGE = [127, 128, 0xffff, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1] as const;

const int = (rng: Rng, min: number, max: number): number => prng.int53(rng, min, max);
const pick = <T>(rng: Rng, list: readonly T[]): T => prng.oneOf(rng, list as T[]);
const huge = (rng: Rng): number => pick(rng, HUGE);

function encode(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** A sync frame: type 0, `sub` (0 step 1, 1 step 2, 2 update), the payload with its length (or `lie` in its place). */
export const syncFrame = (sub: number, payload: Uint8Array, lie?: number): Uint8Array =>
  encode((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, sub);
    encoding.writeVarUint(e, lie ?? payload.length);
    encoding.writeUint8Array(e, payload);
  });

const awarenessFrame = (update: Uint8Array, lie?: number): Uint8Array =>
  encode((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    encoding.writeVarUint(e, lie ?? update.length);
    encoding.writeUint8Array(e, update);
  });

/**
 * An honest client of one document: a Y.Doc whose client id comes from the
 * PRNG, and the updates it would send for the writes its user may make
 * there. Its clocks run ahead of the server's whenever a mutated copy was
 * sent instead of the real one; those updates are then refused (reset-required),
 * which is honest behaviour too, until `renew` takes a new client id.
 */
export class HonestWriter {
  doc: Y.Doc;
  private readonly own: string[] = [];
  private n = 0;

  constructor(
    private readonly rng: Rng,
    readonly user: string,
    readonly path: DocPath,
  ) {
    this.doc = this.newDoc();
  }

  private newDoc(): Y.Doc {
    const doc = new Y.Doc({ gc: true });
    doc.clientID = prng.uint32(this.rng, 1, 0xfffffffe);
    return doc;
  }

  /** A new client id (a client that was refused resyncs under a new one). */
  renew(): void {
    this.doc.destroy();
    this.doc = this.newDoc();
    this.own.length = 0;
  }

  destroy(): void {
    this.doc.destroy();
  }

  /** The update a change of the document produces (empty when nothing changed). */
  private capture(change: () => void): Uint8Array {
    const parts: Uint8Array[] = [];
    const listen = (update: Uint8Array): void => void parts.push(update);
    this.doc.on('update', listen);
    try {
      this.doc.transact(change);
    } finally {
      this.doc.off('update', listen);
    }
    return parts.length === 1 ? (parts[0] ?? new Uint8Array()) : Y.mergeUpdates(parts);
  }

  private peer(): string {
    const path = this.path;
    if (path.kind !== 'conversation') return path.user === this.user ? 'alice' : path.user;
    return path.a === this.user ? path.b : path.a;
  }

  /** One honest write of this document's kind, as an update. */
  write(): { kind: string; update: Uint8Array } {
    const now = Date.now();
    const user = this.user;
    const peer = this.peer();
    if (this.path.kind === 'prefs' || this.path.kind === 'inbox') {
      const choice = int(this.rng, 0, 3);
      const root = ['read', 'muted', 'pinned', 'drafts'][choice] ?? 'read';
      const value = [{ seq: int(this.rng, 0, 1000) }, { muted: prng.bool(this.rng) }, { pinned: prng.bool(this.rng), ts: now }, { text: prng.word(this.rng, 1, 40), ts: now }][choice];
      return { kind: `honest/${root}`, update: this.capture(() => this.doc.getMap(root).set(peer, value)) };
    }
    const target = this.own.length > 0 ? pick(this.rng, this.own) : undefined;
    const choice = target === undefined ? 0 : int(this.rng, 0, 9);
    if (choice <= 4 || target === undefined) {
      const id = `f${prng.word(this.rng, 6, 12).replace(/[^a-z]/g, 'x')}${this.n++}`;
      const message = { id, from: user, to: peer, type: 'text', body: [{ type: 'text', text: prng.utf16String(this.rng, 60) || 'x' }], ts: now, profile: { nickname: user } };
      this.own.push(id);
      return { kind: 'honest/message', update: this.capture(() => this.doc.getMap('messages').set(id, message)) };
    }
    if (choice === 5) {
      const kind = prng.bool(this.rng) ? 'delivered' : 'read';
      return { kind: 'honest/receipt', update: this.capture(() => this.doc.getMap('receipts').set(`${user}|${kind}`, { user, seq: int(this.rng, 0, 500) })) };
    }
    if (choice === 6) {
      const emoji = pick(this.rng, ['👍', '❤️', 'x', '😂']);
      return { kind: 'honest/reaction', update: this.capture(() => this.doc.getMap('reactions').set(`${target}|${user}|${emoji}`, { msg: target, from: user, emoji, ts: now })) };
    }
    if (choice === 7) {
      const n = int(this.rng, 1, 3);
      return { kind: 'honest/edit', update: this.capture(() => this.doc.getMap('edits').set(`${target}|${n}`, { msg: target, from: user, n, text: 'edited', ts: now })) };
    }
    return {
      kind: 'honest/recall',
      update: this.capture(() => {
        this.doc.getMap('messages').delete(target);
        this.doc.getMap('recalls').set(target, { by: user, ts: now });
      }),
    };
  }

  stepOne(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  stepTwo(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }

  /** This client's awareness update: the app's state (`here`, `typing`). */
  awareness(): Uint8Array {
    const awareness = new awarenessProtocol.Awareness(this.doc);
    awareness.setLocalState({ here: prng.bool(this.rng) ? this.peer() : null, typing: prng.bool(this.rng) ? this.peer() : null });
    const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [this.doc.clientID]);
    awareness.destroy();
    return update;
  }
}

/** One honest frame of `writer`'s document, and the update inside it when it carries one. */
function honest(rng: Rng, writer: HonestWriter): Frame & { update?: Uint8Array } {
  const choice = int(rng, 0, 9);
  if (choice === 0) return { kind: 'honest/step1', bytes: syncFrame(syncProtocol.messageYjsSyncStep1, writer.stepOne()) };
  if (choice === 1) {
    const update = writer.stepTwo();
    return { kind: 'honest/step2', bytes: syncFrame(syncProtocol.messageYjsSyncStep2, update), update };
  }
  if (choice === 2) return { kind: 'honest/awareness', bytes: awarenessFrame(writer.awareness()) };
  if (choice === 3) return { kind: 'honest/query-awareness', bytes: new Uint8Array([MESSAGE_QUERY_AWARENESS]) };
  const { kind, update } = writer.write();
  return { kind, bytes: syncFrame(syncProtocol.messageYjsUpdate, update), update };
}

// --- Mutations of honest frames ---

function truncate(rng: Rng, bytes: Uint8Array): Uint8Array {
  return bytes.slice(0, int(rng, 0, Math.max(0, bytes.length - 1)));
}

function flipBits(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return out;
  for (let i = int(rng, 1, 8); i > 0; i--) {
    const at = int(rng, 0, out.length - 1);
    out[at] = (out[at] ?? 0) ^ (1 << int(rng, 0, 7));
  }
  return out;
}

/** A length that is not the payload's: a little off, zero, or huge. */
function lie(rng: Rng, length: number): number {
  const choice = int(rng, 0, 3);
  if (choice === 0) return length + int(rng, 1, 1000);
  if (choice === 1) return Math.max(0, length - int(rng, 1, 8));
  if (choice === 2) return 0;
  return huge(rng);
}

/** The update's bytes repeated, or spliced with random bytes, behind an honest frame header. */
function splice(rng: Rng, update: Uint8Array): Uint8Array {
  const cut = int(rng, 0, update.length);
  const filler = prng.uint8Array(rng, int(rng, 1, 64));
  const out = new Uint8Array(update.length + filler.length);
  out.set(update.subarray(0, cut));
  out.set(filler, cut);
  out.set(update.subarray(cut), cut + filler.length);
  return out;
}

function mutate(rng: Rng, writer: HonestWriter): Frame {
  const base = honest(rng, writer);
  const update = base.update;
  const choice = int(rng, 0, update === undefined ? 2 : 6);
  if (choice === 0) return { kind: 'mutate/truncate-frame', bytes: truncate(rng, base.bytes) };
  if (choice === 1) return { kind: 'mutate/bitflip-frame', bytes: flipBits(rng, base.bytes) };
  if (choice === 2 || update === undefined) {
    // The outer length: re-frame whatever the frame carried after its type (and sub-type).
    const sub = base.bytes[0] === MESSAGE_SYNC ? (base.bytes[1] ?? 0) : -1;
    const payload = update ?? base.bytes.subarray(2);
    return { kind: 'mutate/length-lie', bytes: sub >= 0 ? syncFrame(sub, payload, lie(rng, payload.length)) : awarenessFrame(payload, lie(rng, payload.length)) };
  }
  // Inner mutations keep the frame honest, so the update itself reaches the decoder.
  const sub = pick(rng, [syncProtocol.messageYjsSyncStep2, syncProtocol.messageYjsUpdate]);
  if (choice === 3) return { kind: 'mutate/truncate-update', bytes: syncFrame(sub, truncate(rng, update)) };
  if (choice === 4) return { kind: 'mutate/bitflip-update', bytes: syncFrame(sub, flipBits(rng, update)) };
  if (choice === 5) return { kind: 'mutate/splice-update', bytes: syncFrame(sub, splice(rng, update)) };
  // The same update twice in one frame, merged: what a client re-sending could do.
  return { kind: 'mutate/merge-self', bytes: syncFrame(sub, Y.mergeUpdates([update, update])) };
}

// --- Updates crafted in the Yjs v1 format ---

interface Id {
  client: number;
  clock: number;
}

/**
 * One item struct: `origin` / `rightOrigin` when given; otherwise a root
 * parent and key. `content` writes the content after the info byte's ref.
 */
function writeItem(e: encoding.Encoder, item: { origin?: Id; rightOrigin?: Id; root?: string; parentId?: Id; key?: string; ref: number; content: (e: encoding.Encoder) => void }): void {
  const hasKey = item.origin === undefined && item.rightOrigin === undefined && item.key !== undefined;
  encoding.writeUint8(e, (item.ref & 0x1f) | (item.origin === undefined ? 0 : 0x80) | (item.rightOrigin === undefined ? 0 : 0x40) | (hasKey ? 0x20 : 0));
  if (item.origin !== undefined) writeId(e, item.origin);
  if (item.rightOrigin !== undefined) writeId(e, item.rightOrigin);
  if (item.origin === undefined && item.rightOrigin === undefined) {
    if (item.parentId !== undefined) {
      encoding.writeVarUint(e, 0);
      writeId(e, item.parentId);
    } else {
      encoding.writeVarUint(e, 1);
      encoding.writeVarString(e, item.root ?? 'messages');
    }
    if (hasKey) encoding.writeVarString(e, item.key ?? '');
  }
  item.content(e);
}

function writeId(e: encoding.Encoder, id: Id): void {
  encoding.writeVarUint(e, id.client);
  encoding.writeVarUint(e, id.clock);
}

/** ContentAny (ref 8) of one value, written with lib0's `any` encoding. */
const anyContent =
  (value: unknown) =>
  (e: encoding.Encoder): void => {
    encoding.writeVarUint(e, 1);
    encoding.writeAny(e, value as Parameters<typeof encoding.writeAny>[1]);
  };

const bombs = new Map<string, Uint8Array>();

/** ContentAny holding arrays (or objects) nested `depth` deep, written by hand: lib0's writer would recurse. */
const bombContent =
  (depth: number, objects: boolean) =>
  (e: encoding.Encoder): void => {
    const name = `${depth}${objects}`;
    let bomb = bombs.get(name);
    if (bomb === undefined) {
      // One value, then per level an array of one (117, 1) or an object of one key `k` (118, 1, 1, 'k'); null at the bottom.
      const level = objects ? [118, 1, 1, 0x6b] : [117, 1];
      bomb = new Uint8Array(1 + depth * level.length + 1);
      bomb[0] = 1;
      for (let i = 0; i < depth; i++) bomb.set(level, 1 + i * level.length);
      bomb[bomb.length - 1] = 126;
      bombs.set(name, bomb);
    }
    encoding.writeUint8Array(e, bomb);
  };

function deleteSet(e: encoding.Encoder, clients: { client: number; ranges: { clock: number; len: number }[] }[]): void {
  encoding.writeVarUint(e, clients.length);
  for (const { client, ranges } of clients) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, ranges.length);
    for (const r of ranges) {
      encoding.writeVarUint(e, r.clock);
      encoding.writeVarUint(e, r.len);
    }
  }
}

/** A plausible message value of `writer`'s user, for crafted items that should pass the schema. */
function messageValue(rng: Rng, writer: HonestWriter, id: string): Record<string, unknown> {
  const path = writer.path;
  const to = path.kind === 'conversation' ? (path.a === writer.user ? path.b : path.a) : 'alice';
  return { id, from: writer.user, to, type: 'text', body: [{ type: 'text', text: prng.word(rng, 1, 20) || 'x' }], ts: Date.now(), profile: { nickname: writer.user } };
}

/** An update crafted by hand, one field hostile; the writer's client id and state give it a real footing. */
function craft(rng: Rng, writer: HonestWriter): Frame {
  const client = writer.doc.clientID;
  const clock = Y.getState(writer.doc.store, client);
  const id = `c${prng.word(rng, 4, 10).replace(/[^a-z]/g, 'x')}`;
  const section = (structs: number, sectionClient: number, sectionClock: number, write: (e: encoding.Encoder) => void, ds: Parameters<typeof deleteSet>[1] = []) =>
    encode((e) => {
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint(e, structs);
      encoding.writeVarUint(e, sectionClient);
      encoding.writeVarUint(e, sectionClock);
      write(e);
      deleteSet(e, ds);
    });
  const newKey = (e: encoding.Encoder): void => writeItem(e, { root: 'messages', key: id, ref: 8, content: anyContent(messageValue(rng, writer, id)) });
  const choice = int(rng, 0, 11);
  let kind: string;
  let update: Uint8Array;
  switch (choice) {
    case 0:
      kind = 'craft/huge-client';
      update = section(1, huge(rng), 0, newKey);
      break;
    case 1:
      kind = 'craft/huge-clock';
      update = section(1, client, huge(rng), newKey);
      break;
    case 2:
      kind = 'craft/huge-struct-count';
      update = section(huge(rng), client, clock, newKey);
      break;
    case 3:
      kind = 'craft/huge-content-length';
      update = section(1, client, clock, (e) => writeItem(e, { root: 'messages', key: id, ref: pick(rng, [1, 2, 3, 4, 8, 10]), content: (c) => encoding.writeVarUint(c, huge(rng)) }));
      break;
    case 4:
      kind = 'craft/nested-any-bomb';
      update = section(1, client, clock, (e) => writeItem(e, { root: 'messages', key: id, ref: 8, content: bombContent(pick(rng, [65, 1000, 10_000, 100_000]), prng.bool(rng)) }));
      break;
    case 5: {
      kind = 'craft/repeated-structs';
      const repeats = pick(rng, [2, 10, 1000]);
      const struct = encode(newKey);
      update = section(repeats, client, clock, (e) => {
        for (let i = 0; i < repeats; i++) encoding.writeUint8Array(e, struct);
      });
      break;
    }
    case 6: {
      // The message, then an overwrite of it whose right origin is a clock this client has not reached (issue 13, fault 2).
      kind = 'craft/future-right-origin';
      update = section(2, client, clock, (e) => {
        newKey(e);
        writeItem(e, { origin: { client, clock }, rightOrigin: { client, clock: clock + int(rng, 2, 1000) }, ref: 8, content: anyContent(messageValue(rng, writer, id)) });
      });
      break;
    }
    case 7:
      kind = 'craft/future-origin';
      update = section(1, client, clock, (e) =>
        writeItem(e, { origin: { client: prng.bool(rng) ? client : prng.uint32(rng, 1, 0xfffffffe), clock: clock + int(rng, 1, 1_000_000) }, ref: 8, content: anyContent(messageValue(rng, writer, id)) }),
      );
      break;
    case 8:
      kind = 'craft/parent-of-absent-id';
      update = section(1, client, clock, (e) => writeItem(e, { parentId: { client: prng.uint32(rng, 0, 0xffffffff), clock: int(rng, 0, 1000) }, key: id, ref: 8, content: anyContent({ any: 1 }) }));
      break;
    case 9: {
      // No structs, only deletions: of this client's future clocks (fault 3), of another's, of clocks nobody holds.
      kind = 'craft/delete-absent';
      const target = pick(rng, [client, prng.uint32(rng, 0, 0xffffffff), huge(rng)]);
      const ranges = Array.from({ length: int(rng, 1, 50) }, () => ({ clock: prng.bool(rng) ? clock + int(rng, 0, 100) : huge(rng), len: prng.bool(rng) ? int(rng, 1, 10) : huge(rng) }));
      update = encode((e) => {
        encoding.writeVarUint(e, 0);
        deleteSet(e, [{ client: target, ranges }]);
      });
      break;
    }
    case 10: {
      // A real message, and in the same update the deletion of the clock after it (a delete that arrives before its item).
      kind = 'craft/delete-own-future';
      update = section(1, client, clock, newKey, [{ client, ranges: [{ clock: clock + 1, len: int(rng, 1, 5) }] }]);
      break;
    }
    default: {
      // Content of a kind the validator refuses, or a nested type.
      kind = 'craft/odd-content';
      const ref = pick(rng, [2, 3, 4, 5, 6, 7, 9]);
      update = section(1, client, clock, (e) =>
        writeItem(e, {
          root: pick(rng, ['messages', 'seq', 'clients', 'receipts', 'zzz', '']),
          key: id,
          ref,
          content: (c) => {
            if (ref === 7) encoding.writeVarUint(c, int(rng, 0, 6));
            else if (ref === 2) {
              encoding.writeVarUint(c, 1);
              encoding.writeVarString(c, pick(rng, ['{', '[[[[[[[[[[[[[[[[[[[[', 'undefined', '1e999', '"x"']));
            } else encoding.writeVarString(c, prng.word(rng, 0, 30));
          },
        }),
      );
    }
  }
  return { kind, bytes: syncFrame(pick(rng, [syncProtocol.messageYjsSyncStep2, syncProtocol.messageYjsUpdate]), update) };
}

// --- Awareness of odd JSON ---

const ODD_STATES = [
  'null',
  '[]',
  '"here"',
  '1e999',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"here":{"nested":true}}',
  '{"typing":12345}',
  '{"here":"alice","here":"bob"}',
  '{"user":"alice","typing":"bob"}',
  '{"typing":"' + 'x'.repeat(2000) + '"}',
  '[' .repeat(500) + ']'.repeat(500),
  '{"a":' .repeat(100) + '1' + '}'.repeat(100),
  '{',
  '',
  '{"here":"\\ud800"}',
] as const;

function oddAwareness(rng: Rng, writer: HonestWriter): Frame {
  const choice = int(rng, 0, 3);
  const client = prng.bool(rng) ? writer.doc.clientID : pick(rng, [0, 1, huge(rng)]);
  const clock = pick(rng, [0, 1, int(rng, 0, 100), huge(rng)]);
  if (choice === 0) {
    // A state that is not UTF-8.
    const update = encode((e) => {
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint(e, client);
      encoding.writeVarUint(e, clock);
      encoding.writeVarUint8Array(e, new Uint8Array([0x7b, 0xff, 0xfe, 0x22, 0xc3]));
    });
    return { kind: 'awareness/not-utf8', bytes: awarenessFrame(update) };
  }
  if (choice === 1) {
    // Many clients, or a count that lies.
    const count = int(rng, 1, 50);
    const update = encode((e) => {
      encoding.writeVarUint(e, prng.bool(rng) ? count : huge(rng));
      for (let i = 0; i < count; i++) {
        encoding.writeVarUint(e, prng.uint32(rng, 0, 0xffffffff));
        encoding.writeVarUint(e, int(rng, 0, 10));
        encoding.writeVarString(e, '{"here":null}');
      }
    });
    return { kind: 'awareness/many-clients', bytes: awarenessFrame(update) };
  }
  const update = encode((e) => {
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, pick(rng, ODD_STATES));
  });
  return { kind: 'awareness/odd-json', bytes: awarenessFrame(update) };
}

// --- Frames of no protocol, or the wrong direction ---

/** Parley's control frame (type 20) is server → client only; here a client sends it. */
function controlWrongWay(rng: Rng): Frame {
  const frames = [
    { type: 'ack', client: 1, clock: 1, msgIds: ['x'] },
    { type: 'reject', code: 'internal', message: 'x', msgIds: [] },
    { type: 'refused', code: 'token-expired', message: 'x' },
  ];
  const text = prng.bool(rng) ? JSON.stringify(pick(rng, frames)) : prng.utf16String(rng, 200);
  return {
    kind: 'control/wrong-way',
    bytes: encode((e) => {
      encoding.writeVarUint(e, MESSAGE_CONTROL);
      encoding.writeVarString(e, text);
    }),
  };
}

function unknownType(rng: Rng): Frame {
  const type = pick(rng, [2, int(rng, 4, 19), int(rng, 21, 127), int(rng, 128, 0xffff), huge(rng)]);
  return {
    kind: 'unknown-type',
    bytes: encode((e) => {
      encoding.writeVarUint(e, type);
      encoding.writeUint8Array(e, prng.uint8Array(rng, int(rng, 0, 32)));
    }),
  };
}

/** A sync frame with a sub-type and payload drawn at random (sub-types 0-2 and some that do not exist). */
function randomSync(rng: Rng): Frame {
  return { kind: 'random/sync', bytes: syncFrame(int(rng, 0, 5), prng.uint8Array(rng, int(rng, 0, 64))) };
}

function randomBytes(rng: Rng): Frame {
  const length = pick(rng, [0, 1, 2, int(rng, 3, 64), int(rng, 65, 4096)]);
  return { kind: 'random/bytes', bytes: prng.uint8Array(rng, length) };
}

/**
 * The next frame for `writer`'s session. Weights: about a fifth honest (so
 * writes are accepted and relayed meanwhile), a quarter mutated honest frames,
 * a quarter crafted updates, the rest awareness, control, unknown and random.
 */
export function nextFrame(rng: Rng, writer: HonestWriter): Frame {
  const roll = int(rng, 0, 99);
  if (roll < 20) return honest(rng, writer);
  if (roll < 45) return mutate(rng, writer);
  if (roll < 70) return craft(rng, writer);
  if (roll < 80) return oddAwareness(rng, writer);
  if (roll < 85) return controlWrongWay(rng);
  if (roll < 90) return unknownType(rng);
  if (roll < 95) return randomSync(rng);
  return randomBytes(rng);
}
