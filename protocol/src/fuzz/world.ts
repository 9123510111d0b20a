/**
 * A conversation as the sync server holds it, for the differential fuzz of
 * the validator: a server document (claims in `clients`, stamps in `seq`)
 * built from the writes of honest devices, each update judged by the
 * validator and applied only if accepted, the way the server does.
 *
 * Everything here is derived from a seeded PRNG (lib0/prng), so that a world
 * and every write in it can be built again from its seed.
 */
import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import { type DocPath, parseDocPath } from '../paths.ts';
import type { Message } from '../schemas.ts';
import { SERVER_CLAIM, SERVER_ROOTS, validateUpdate, type Verdict } from '../validate.ts';

export const SEGMENT = '2025-03';
/** The server's clock for every judgement: inside the segment, so messages dated near it are in range. */
export const NOW = Date.UTC(2025, 2, 15, 12, 0, 0);
export const SERVER_CLIENT = 1;
export const USERS = ['alice', 'bob'] as const;
export type User = (typeof USERS)[number];
/** The client ids each user's devices write with (a user with several devices, or one that reloaded). */
export const DEVICES: Record<User, readonly number[]> = { alice: [101, 102], bob: [201, 202] };
export const CONVERSATION = parseDocPath(`c2c/alice/bob/${SEGMENT}`) as Extract<DocPath, { kind: 'conversation' }>;

export const peerOf = (user: User): User => (user === 'alice' ? 'bob' : 'alice');

/** A honest device: a copy of the server's document that writes under its own client id. */
export interface Device {
  user: User;
  doc: Y.Doc;
}

/** Documents made here take no random guid: Yjs draws a v4 uuid from 31 crypto calls, most of a case's time. */
const newDoc = (): Y.Doc => new Y.Doc({ guid: 'fuzz' });

/** An update an honest device sent (not yet submitted), and how it was made. */
export interface HonestUpdate {
  user: User;
  update: Uint8Array;
  how: string;
}

/** Honest updates made against each world, which the cases then bend (so a case costs no device of its own). */
const HONEST_PER_WORLD = 48;

export class World {
  readonly doc = newDoc();
  /** Honest updates against the world as it stands, for cases to start from. */
  readonly honest: HonestUpdate[] = [];
  private seq = 0;
  private counter = 0;
  /** The server's document as an update, for copies to apply an accepted update to. */
  private state: Uint8Array | null = null;

  constructor(readonly rng: prng.PRNG) {
    this.doc.clientID = SERVER_CLIENT;
  }

  /** Judges `update` as the server would and applies it if accepted (claims and stamps in a second transaction). */
  submit(user: User, update: Uint8Array): Verdict {
    const verdict = validateUpdate(update, { user, path: CONVERSATION, doc: this.doc, now: NOW });
    if (!verdict.ok || verdict.empty) return verdict;
    Y.applyUpdate(this.doc, update);
    this.doc.transact(() => {
      const clients = this.doc.getMap<{ user: string }>(SERVER_ROOTS.clients);
      for (const client of verdict.newClients) clients.set(String(client), { user });
      if (!clients.has(String(SERVER_CLIENT))) clients.set(String(SERVER_CLIENT), { user: SERVER_CLAIM });
      for (const m of verdict.messages) this.doc.getMap<number>(SERVER_ROOTS.seq).set(m.id, ++this.seq);
    });
    this.state = null;
    return verdict;
  }

  /** A fresh copy of the server's document. */
  copy(): Y.Doc {
    this.state ??= Y.encodeStateAsUpdate(this.doc);
    const doc = newDoc();
    Y.applyUpdate(doc, this.state);
    return doc;
  }

  /** A device of `user` in step with the server, writing as `clientID`. */
  device(user: User, clientID: number): Device {
    const doc = this.copy();
    doc.clientID = clientID;
    return { user, doc };
  }

  /** A message id no one has used in this world. */
  freshId(): string {
    return `m${(++this.counter).toString(36)}${prng.word(this.rng, 2, 4)}`;
  }
}

/** What an honest device writes, one local transaction each. */
export function honestWrite(world: World, device: Device, rng: prng.PRNG): void {
  const { doc, user } = device;
  const messages = doc.getMap<Message>('messages');
  const own = [...messages.values()].filter((m) => m.from === user);
  const any = [...messages.keys()];
  const ts = NOW - prng.int32(rng, 0, 60_000);
  const kind = prng.int32(rng, 0, 9);
  doc.transact(() => {
    if (kind <= 3 || any.length === 0) {
      const id = world.freshId();
      messages.set(id, { id, from: user, to: peerOf(user), type: 'text', body: [{ type: 'text', text: prng.word(rng, 1, 12) }], ts, profile: { nickname: user } });
    } else if (kind === 4) {
      doc.getMap('receipts').set(`${user}|${prng.bool(rng) ? 'read' : 'delivered'}`, { user, seq: prng.int32(rng, 0, 50) });
    } else if (kind === 5) {
      const msg = prng.oneOf(rng, any);
      const key = `${msg}|${user}|${prng.oneOf(rng, ['+1', 'ok', 'ha'])}`;
      const reactions = doc.getMap('reactions');
      if (reactions.has(key) && prng.bool(rng)) reactions.delete(key);
      else reactions.set(key, { msg, from: user, emoji: key.split('|')[2] ?? '+1', ts });
    } else if (kind === 6) {
      const msg = prng.oneOf(rng, any);
      const name = prng.oneOf(rng, ['open', 'play', 'vote']);
      doc.getMap('actions').set(`${msg}|${user}|${name}`, { msg, from: user, name, data: prng.int32(rng, 0, 9), ts });
    } else if (kind === 7 && own.length > 0) {
      // A recall: the marker, and the content and its edits deleted.
      const m = prng.oneOf(rng, own);
      doc.getMap('recalls').set(m.id, { by: user, ts });
      messages.delete(m.id);
      const edits = doc.getMap('edits');
      for (const key of [...edits.keys()]) if (key.startsWith(`${m.id}|`)) edits.delete(key);
    } else if (kind === 8 && own.length > 0) {
      const m = prng.oneOf(rng, own);
      const edits = doc.getMap('edits');
      let n = 1;
      while (edits.has(`${m.id}|${n}`)) n++;
      edits.set(`${m.id}|${n}`, { msg: m.id, from: user, n, text: prng.word(rng, 1, 8), ts });
    } else {
      const reactions = doc.getMap('reactions');
      const mine = [...reactions.keys()].filter((k) => k.split('|')[1] === user);
      if (mine.length > 0) reactions.delete(prng.oneOf(rng, mine));
      else doc.getMap('receipts').set(`${user}|read`, { user, seq: prng.int32(rng, 0, 50) });
    }
  });
}

/** Runs `write` and returns every update the document emitted meanwhile, one per transaction. */
export function captureUpdates(doc: Y.Doc, write: () => void): Uint8Array[] {
  const updates: Uint8Array[] = [];
  const onUpdate = (update: Uint8Array): void => {
    updates.push(update);
  };
  doc.on('update', onUpdate);
  try {
    write();
  } finally {
    doc.off('update', onUpdate);
  }
  return updates;
}

/**
 * A world with a short history: honest devices of both users write a few
 * things each and the server keeps what the validator accepts.
 */
export function buildWorld(seed: number): World {
  const rng = prng.create(seed);
  const world = new World(rng);
  const steps = prng.int32(rng, 3, 15);
  for (let i = 0; i < steps; i++) {
    const user = prng.oneOf(rng, [...USERS]);
    const device = world.device(user, prng.oneOf(rng, [...DEVICES[user]]));
    const updates = captureUpdates(device.doc, () => {
      const writes = prng.int32(rng, 1, 3);
      for (let w = 0; w < writes; w++) honestWrite(world, device, rng);
    });
    for (const update of updates) world.submit(user, update);
    device.doc.destroy();
  }
  for (let i = 0; i < HONEST_PER_WORLD; i++) world.honest.push(honestUpdate(world, rng));
  return world;
}

/** An honest update of one of the world's devices: one transaction, several, or everything it holds. */
function honestUpdate(world: World, rng: prng.PRNG): HonestUpdate {
  const user = prng.oneOf(rng, [...USERS]);
  const clientID = prng.int32(rng, 0, 5) === 0 ? prng.uint32(rng, 1000, 0xffffff) : prng.oneOf(rng, [...DEVICES[user]]);
  const device = world.device(user, clientID);
  const before = Y.encodeStateVector(world.doc);
  const updates = captureUpdates(device.doc, () => {
    const writes = prng.int32(rng, 1, 4);
    for (let w = 0; w < writes; w++) honestWrite(world, device, rng);
  });
  const how = prng.int32(rng, 0, 3);
  const update =
    how === 0 || updates.length === 0
      ? Y.encodeStateAsUpdate(device.doc, before)
      : how === 1
        ? Y.encodeStateAsUpdate(device.doc)
        : how === 2
          ? Y.mergeUpdates(updates)
          : (updates.at(-1) as Uint8Array);
  device.doc.destroy();
  return { user, update, how: ['sync step 2', 'full state', 'merged', 'last transaction'][how] ?? '' };
}

