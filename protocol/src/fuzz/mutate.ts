/**
 * Hostile updates for the differential fuzz of the validator: honest updates
 * of the world's devices, then mutated the way a crafted client could (origins,
 * right origins, parents, keys, clocks, client ids, contents, sections and
 * delete ranges pointing at present, absent and future clocks; truncations and
 * flipped bytes), and structurally valid updates made up from nothing.
 *
 * An update is edited as a model (its client sections of structs, and its
 * delete set) and written back in update format v1 with Yjs's own struct
 * writers, so that a mutation changes one thing and leaves the rest well formed.
 */
import * as encoding from 'lib0/encoding';
import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import { DEVICES, NOW, peerOf, SERVER_CLIENT, type User, type World } from './world.ts';

type Struct = Y.Item | Y.GC | Y.Skip;

export interface Section {
  client: number;
  clock: number;
  structs: Struct[];
}

/** An update as its parts: client sections of structs (in order, clocks implied), and delete ranges by client. */
export interface Model {
  sections: Section[];
  ds: { client: number; ranges: { clock: number; len: number }[] }[];
}

export interface FuzzCase {
  user: User;
  update: Uint8Array;
  /** What was done to make it, for a person replaying a failure. */
  steps: string[];
}

const ROOTS = ['messages', 'receipts', 'actions', 'recalls', 'edits', 'reactions', 'seq', 'clients', 'read', 'nope'];

/** Splits an update into sections: a new one where the client changes or the clocks stop following on. */
export function toModel(update: Uint8Array): Model {
  const { structs, ds } = Y.decodeUpdate(update);
  const sections: Section[] = [];
  let current: Section | null = null;
  let next = 0;
  for (const struct of structs as Struct[]) {
    if (current === null || current.client !== struct.id.client || struct.id.clock !== next) {
      current = { client: struct.id.client, clock: struct.id.clock, structs: [] };
      sections.push(current);
    }
    current.structs.push(struct);
    next = struct.id.clock + struct.length;
  }
  return {
    sections,
    ds: [...ds.clients].map(([client, items]) => ({ client, ranges: items.map((i) => ({ clock: i.clock, len: i.len })) })),
  };
}

/** Writes a model in update format v1 with Yjs's struct writers (any model: wrong ones are the point). */
export function encodeModel(model: Model): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const rest = encoder.restEncoder;
  encoding.writeVarUint(rest, model.sections.length);
  for (const section of model.sections) {
    encoding.writeVarUint(rest, section.structs.length);
    encoder.writeClient(section.client);
    encoding.writeVarUint(rest, section.clock);
    for (const struct of section.structs) struct.write(encoder, 0);
  }
  encoding.writeVarUint(rest, model.ds.length);
  for (const { client, ranges } of model.ds) {
    encoding.writeVarUint(rest, client);
    encoding.writeVarUint(rest, ranges.length);
    for (const { clock, len } of ranges) {
      encoding.writeVarUint(rest, clock);
      encoding.writeVarUint(rest, len);
    }
  }
  return encoder.toUint8Array();
}

/** The clocks a mutation may point at: held by the server, just past it, further in the future, inside the update, or anywhere. */
function pickClock(rng: prng.PRNG, world: World, model: Model, client: number): number {
  const state = Y.getState(world.doc.store, client);
  const section = model.sections.find((s) => s.client === client);
  switch (prng.int32(rng, 0, 6)) {
    case 0:
    case 1:
      return state === 0 ? 0 : prng.int32(rng, 0, state - 1);
    case 2:
      return state;
    case 3:
      return state + prng.int32(rng, 1, 4);
    case 4: {
      if (section === undefined) return state + 1;
      const end = section.clock + section.structs.reduce((n, s) => n + s.length, 0);
      return prng.int32(rng, section.clock, Math.max(section.clock, end));
    }
    case 5:
      return 0;
    default:
      return prng.oneOf(rng, [2 ** 31, 2 ** 32 + 3, Number.MAX_SAFE_INTEGER - 1, 1000]);
  }
}

function pickClient(rng: prng.PRNG, model: Model): number {
  const pool = [SERVER_CLIENT, ...DEVICES.alice, ...DEVICES.bob, ...model.sections.map((s) => s.client), 777, prng.uint32(rng, 0, 0xffffffff)];
  return prng.oneOf(rng, pool);
}

function pickId(rng: prng.PRNG, world: World, model: Model): Y.ID {
  const client = pickClient(rng, model);
  return Y.createID(client, pickClock(rng, world, model, client));
}

function items(model: Model): Y.Item[] {
  return model.sections.flatMap((s) => s.structs.filter((x): x is Y.Item => x instanceof Y.Item));
}

/** A value some item of the world or the update holds, or a made-up one. */
function pickValue(rng: prng.PRNG, world: World, model: Model): unknown {
  const values: unknown[] = items(model).flatMap((i): unknown[] => (i.content instanceof Y.ContentAny ? (i.content.arr as unknown[]) : []));
  const messages: unknown[] = [...world.doc.getMap<unknown>('messages').values()];
  const pool: unknown[] = [...values, ...messages, { user: 'alice', seq: 3 }, { by: 'alice', ts: NOW }, null, 'x'];
  return prng.oneOf(rng, pool);
}

/**
 * A length of deleted content, a GC or a skip: short, or one that takes its
 * struct's clocks past 2^53, where Yjs's sums of clocks round.
 */
function pickLength(rng: prng.PRNG): number {
  return prng.int32(rng, 0, 4) === 0 ? prng.oneOf(rng, [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 52]) : prng.int32(rng, 0, 3);
}

function pickContent(rng: prng.PRNG, world: World, model: Model): ReturnType<Y.Item['content']['copy']> {
  switch (prng.int32(rng, 0, 7)) {
    case 0:
      return new Y.ContentDeleted(pickLength(rng));
    case 1:
      return new Y.ContentAny([]);
    case 2:
      return new Y.ContentAny([pickValue(rng, world, model), pickValue(rng, world, model)]);
    case 3:
      return new Y.ContentString(prng.oneOf(rng, ['', 'a', 'ab']));
    case 4:
      return new Y.ContentType(new Y.Map());
    case 5:
      return new Y.ContentBinary(new Uint8Array([1, 2]));
    default:
      return new Y.ContentAny([pickValue(rng, world, model)]);
  }
}

function pickKey(rng: prng.PRNG, world: World, model: Model): string {
  const keys = [
    ...items(model).flatMap((i) => (i.parentSub === null ? [] : [i.parentSub])),
    ...[...world.doc.getMap('messages').keys()],
    ...[...world.doc.getMap('recalls').keys()],
    'alice|read',
    'bob|read',
  ];
  return prng.oneOf(rng, keys);
}

/** An item with every field picked at random among things that exist, nearly exist, or do not. */
function madeUpItem(rng: prng.PRNG, world: World, model: Model, client: number): Y.Item {
  const origin = prng.bool(rng) ? pickId(rng, world, model) : null;
  const rightOrigin = prng.int32(rng, 0, 3) === 0 ? pickId(rng, world, model) : null;
  const parent = origin === null && rightOrigin === null ? (prng.int32(rng, 0, 4) === 0 ? pickId(rng, world, model) : prng.oneOf(rng, ROOTS)) : null;
  const parentSub = origin === null && rightOrigin === null && prng.int32(rng, 0, 5) !== 0 ? pickKey(rng, world, model) : null;
  return new Y.Item(Y.createID(client, 0), null, origin, null, rightOrigin, parent as unknown as Y.AbstractType<unknown>, parentSub, pickContent(rng, world, model));
}

/** Gives an item a parent when it has neither origin (Yjs writes one only then, and must have one). */
function ensureParent(rng: prng.PRNG, item: Y.Item): void {
  if (item.origin === null && item.rightOrigin === null && item.parent === null) item.parent = prng.oneOf(rng, ROOTS) as unknown as Y.AbstractType<unknown>;
}

function randomSection(rng: prng.PRNG, model: Model): Section | undefined {
  return model.sections.length === 0 ? undefined : prng.oneOf(rng, model.sections);
}

function randomItem(rng: prng.PRNG, model: Model): Y.Item | undefined {
  const all = items(model);
  return all.length === 0 ? undefined : prng.oneOf(rng, all);
}

/** One mutation of the model; returns what it did. */
function mutate(rng: prng.PRNG, world: World, model: Model): string {
  const kind = prng.int32(rng, 0, 17);
  const item = randomItem(rng, model);
  const section = randomSection(rng, model);
  switch (kind) {
    case 0:
    case 1:
      if (item === undefined) break;
      item.origin = prng.int32(rng, 0, 4) === 0 ? null : pickId(rng, world, model);
      ensureParent(rng, item);
      return `origin ${JSON.stringify(item.origin)}`;
    case 2:
    case 3:
      if (item === undefined) break;
      item.rightOrigin = prng.int32(rng, 0, 4) === 0 ? null : pickId(rng, world, model);
      ensureParent(rng, item);
      return `rightOrigin ${JSON.stringify(item.rightOrigin)}`;
    case 4:
      if (item === undefined) break;
      item.parent = (prng.bool(rng) ? pickId(rng, world, model) : prng.oneOf(rng, ROOTS)) as unknown as Y.AbstractType<unknown>;
      if (prng.bool(rng)) {
        item.origin = null;
        item.rightOrigin = null;
      }
      return `parent ${JSON.stringify(item.parent)}`;
    case 5:
      if (item === undefined) break;
      item.parentSub = prng.int32(rng, 0, 4) === 0 ? null : pickKey(rng, world, model);
      return `parentSub ${item.parentSub}`;
    case 6:
      if (section === undefined) break;
      section.clock = pickClock(rng, world, model, section.client);
      return `section clock ${section.clock}`;
    case 7:
      if (section === undefined) break;
      section.client = pickClient(rng, model);
      return `section client ${section.client}`;
    case 8: {
      if (section === undefined) break;
      // The same client in two sections: an exact copy, a split, or an empty one.
      const how = prng.int32(rng, 0, 2);
      const at = prng.int32(rng, 0, section.structs.length);
      const moved = how === 0 ? [...section.structs] : how === 1 ? section.structs.splice(at) : [];
      const clock = section.clock + section.structs.slice(0, how === 1 ? at : 0).reduce((n, s) => n + s.length, 0);
      model.sections.splice(prng.int32(rng, 0, model.sections.length), 0, { client: section.client, clock: how === 0 ? section.clock : clock, structs: moved });
      return `duplicate section (${how})`;
    }
    case 9:
      if (section === undefined || section.structs.length === 0) break;
      section.structs.splice(prng.int32(rng, 0, section.structs.length - 1), 1);
      return 'drop a struct';
    case 10: {
      if (section === undefined || item === undefined) break;
      section.structs.splice(prng.int32(rng, 0, section.structs.length), 0, item);
      return 'repeat a struct';
    }
    case 11:
      if (item === undefined) break;
      item.content = pickContent(rng, world, model);
      item.length = item.content.getLength();
      return `content ${item.content.constructor.name} of ${item.length}`;
    case 12: {
      if (section === undefined) break;
      const len = pickLength(rng);
      section.structs.splice(prng.int32(rng, 0, section.structs.length), 0, prng.bool(rng) ? new Y.GC(Y.createID(section.client, 0), len) : new Y.Skip(Y.createID(section.client, 0), len));
      return `gc or skip of ${len}`;
    }
    case 13:
    case 14: {
      const client = prng.int32(rng, 0, 2) === 0 ? pickClient(rng, model) : prng.oneOf(rng, [...DEVICES.alice, ...DEVICES.bob]);
      const clock = pickClock(rng, world, model, client);
      const len = prng.oneOf(rng, [0, 1, 1, 2, 5, 100, Number.MAX_SAFE_INTEGER]);
      const entry = model.ds.find((d) => d.client === client) ?? model.ds[model.ds.push({ client, ranges: [] }) - 1];
      entry?.ranges.push({ clock, len });
      return `delete ${client}:${clock}+${len}`;
    }
    case 15: {
      if (section === undefined) break;
      section.structs.splice(prng.int32(rng, 0, section.structs.length), 0, madeUpItem(rng, world, model, section.client));
      return 'insert a made-up item';
    }
    case 16: {
      // A struct the server holds, re-sent with its references bent (Yjs still resolves them).
      const client = prng.oneOf(rng, [SERVER_CLIENT, ...DEVICES.alice, ...DEVICES.bob]);
      const held = world.doc.store.clients.get(client);
      if (held === undefined || held.length === 0) break;
      const index = prng.int32(rng, 0, held.length - 1);
      const original = held[index];
      if (!(original instanceof Y.Item)) break;
      const copy = new Y.Item(original.id, null, original.origin, null, original.rightOrigin, (original.origin === null && original.rightOrigin === null ? (original.parent as Y.AbstractType<unknown>)._item === null ? findRoot(world, original) : original.parent : null) as unknown as Y.AbstractType<unknown>, original.parentSub, original.content.copy());
      if (prng.bool(rng)) copy.origin = pickId(rng, world, model);
      else copy.rightOrigin = pickId(rng, world, model);
      ensureParent(rng, copy);
      model.sections.push({ client, clock: original.id.clock, structs: [copy] });
      return `re-send ${client}:${original.id.clock} bent`;
    }
    default:
      if (model.sections.length < 2) break;
      model.sections.reverse();
      return 'reverse sections';
  }
  return 'nothing';
}

function findRoot(world: World, item: Y.Item): string {
  for (const [name, type] of world.doc.share) if (type === item.parent) return name;
  return 'messages';
}

/** A structurally valid update of made-up items: a few sections, near the clocks the server holds. */
function madeUp(rng: prng.PRNG, world: World): Model {
  const model: Model = { sections: [], ds: [] };
  const n = prng.int32(rng, 1, 3);
  for (let s = 0; s < n; s++) {
    const client = pickClient(rng, model);
    const section: Section = { client, clock: 0, structs: [] };
    model.sections.push(section);
    section.clock = pickClock(rng, world, model, client);
    const count = prng.int32(rng, 1, 4);
    for (let i = 0; i < count; i++) section.structs.push(madeUpItem(rng, world, model, client));
  }
  if (prng.bool(rng)) mutate(rng, world, model);
  return model;
}

/** The bytes bent: cut short, a byte flipped, a byte inserted. */
function bendBytes(rng: prng.PRNG, update: Uint8Array): { update: Uint8Array; step: string } {
  if (update.length === 0) return { update, step: 'empty' };
  const at = prng.int32(rng, 0, update.length - 1);
  switch (prng.int32(rng, 0, 2)) {
    case 0:
      return { update: update.slice(0, at), step: `truncate at ${at}` };
    case 1: {
      const copy = update.slice();
      copy[at] = prng.uint32(rng, 0, 255);
      return { update: copy, step: `byte ${at} set` };
    }
    default: {
      const copy = new Uint8Array(update.length + 1);
      copy.set(update.subarray(0, at));
      copy[at] = prng.uint32(rng, 0, 255);
      copy.set(update.subarray(at), at + 1);
      return { update: copy, step: `byte inserted at ${at}` };
    }
  }
}

/** One fuzz case against `world`: mostly a mutated honest update, sometimes an honest one or a made-up one. */
export function makeCase(rng: prng.PRNG, world: World): FuzzCase {
  const roll = prng.int32(rng, 0, 19);
  const source = prng.oneOf(rng, world.honest);
  const user = prng.int32(rng, 0, 9) === 0 ? peerOf(source.user) : source.user;
  const steps = [`${source.user}'s ${source.how}, judged as ${user}'s`];
  if (roll === 0) return { user, update: source.update, steps };
  let model: Model;
  if (roll <= 3) {
    model = madeUp(rng, world);
    steps.push('made up');
  } else {
    model = toModel(source.update);
    const n = prng.int32(rng, 1, 3);
    for (let i = 0; i < n; i++) steps.push(mutate(rng, world, model));
  }
  let update: Uint8Array;
  try {
    update = encodeModel(model);
  } catch (e) {
    // A model Yjs cannot write (an item without a parent after a mutation): send the honest one bent instead.
    steps.push(`unwritable (${String(e)})`);
    update = source.update;
  }
  if (prng.int32(rng, 0, 9) === 0) {
    const bent = bendBytes(rng, update);
    update = bent.update;
    steps.push(bent.step);
  }
  return { user, update, steps };
}
