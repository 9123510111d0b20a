/**
 * The differential fuzz of the validator against Yjs: every update the
 * validator accepts is applied by Yjs to a copy of the server's document, and
 * must apply whole: no throw half-way, no struct left pending for a clock the
 * server does not have (`store.pendingStructs`), no deletion left pending
 * (`store.pendingDs`). Beyond those, what the validator promises must hold in
 * the document Yjs made: each accepted message is there, no recall marker is
 * gone, no item of the other user (or the server) was deleted. And the
 * server's way of applying it, from the structs the validator decoded
 * (integrate.ts), leaves the same document as Y.applyUpdate, byte for byte.
 *
 * Case `i` of seed `s` is built from its own PRNG (seeded from `s` and `i`)
 * against a world built from `s` and `i / CASES_PER_WORLD`, so any case can be
 * run again alone: `npm run fuzz:validator -- --seed s --case i`.
 */
import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import type { Message } from '../schemas.ts';
import { integrateDecoded } from '../integrate.ts';
import { claimOf, validateUpdate } from '../validate.ts';
import { makeCase, type FuzzCase } from './mutate.ts';
import { buildWorld, CONVERSATION, NOW, type World } from './world.ts';

/** Cases judged against one world before the next is built (building one costs a few hundred updates). */
export const CASES_PER_WORLD = 500;

export interface Failure {
  seed: number;
  index: number;
  /** What broke: `throw`, `pending-structs`, `pending-ds`, or a broken promise of the validator. */
  kind: string;
  detail: string;
  steps: string[];
  /** The update, base64, to paste into a unit test. */
  update: string;
}

export interface Tally {
  cases: number;
  accepted: number;
  failures: Failure[];
  /** Failures by kind (every one is counted; only the first few are kept whole). */
  byKind: Record<string, number>;
  ms: number;
}

const caseSeed = (seed: number, index: number): number => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + index * 0x27d4eb2d) >>> 0;
const worldSeed = (seed: number, world: number): number => (Math.imul(seed + 0x1234567, 0x85ebca6b) ^ Math.imul(world + 1, 0xc2b2ae35)) >>> 0;

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** The case `index` of `seed`, against its world (built here unless given). */
export function fuzzCase(seed: number, index: number, world: World = buildWorld(worldSeed(seed, Math.floor(index / CASES_PER_WORLD)))): { world: World; fuzz: FuzzCase } {
  return { world, fuzz: makeCase(prng.create(caseSeed(seed, index)), world) };
}

/** Judges one case; returns what broke, or null. Counts an acceptance in `tally`. */
export function judgeCase(world: World, fuzz: FuzzCase, tally: { accepted: number }): { kind: string; detail: string } | null {
  const verdict = validateUpdate(fuzz.update, { user: fuzz.user, path: CONVERSATION, doc: world.doc, now: NOW });
  if (!verdict.ok) return null;
  tally.accepted++;
  const doc = world.copy();
  const recallsBefore = [...world.doc.getMap('recalls').keys()];
  try {
    Y.applyUpdate(doc, fuzz.update);
  } catch (e) {
    return { kind: 'throw', detail: String(e) };
  }
  try {
    if (doc.store.pendingStructs !== null) return { kind: 'pending-structs', detail: `missing ${JSON.stringify([...doc.store.pendingStructs.missing])}` };
    if (doc.store.pendingDs !== null) return { kind: 'pending-ds', detail: 'deletions of clocks the document does not hold' };
    const messages = doc.getMap<Message>('messages');
    for (const m of verdict.messages) {
      if (messages.get(m.id)?.id !== m.id) return { kind: 'message-missing', detail: `accepted message ${m.id} is not in the document` };
    }
    const recalls = doc.getMap('recalls');
    for (const key of recallsBefore) if (!recalls.has(key)) return { kind: 'recall-undone', detail: `recall ${key} is gone` };
    const decodedApply = sameAsIntegrated(world, verdict.decoded, doc);
    if (decodedApply !== null) return { kind: 'integrate-differs', detail: decodedApply };
    for (const [client, structs] of world.doc.store.clients) {
      const owner = claimOf(world.doc, client);
      if (owner === fuzz.user) continue;
      for (const struct of structs) {
        if (struct.deleted || !(struct instanceof Y.Item)) continue;
        if (Y.getItem(doc.store, struct.id).deleted) return { kind: 'foreign-deletion', detail: `${owner ?? 'unclaimed'}'s ${client}:${struct.id.clock} deleted` };
      }
    }
    return null;
  } finally {
    doc.destroy();
  }
}

/** Why applying `decoded` to a copy of the world differs from `expected` (Y.applyUpdate's result), or null. */
function sameAsIntegrated(world: World, decoded: Parameters<typeof integrateDecoded>[1], expected: Y.Doc): string | null {
  const doc = world.copy();
  try {
    // Its own update event too: what LiveDoc stores when it must encode an update again.
    let emitted: Uint8Array | null = null;
    doc.on('update', (update: Uint8Array) => (emitted = update));
    integrateDecoded(doc, decoded, null);
    const reference = world.copy();
    let referenceEmitted: Uint8Array | null = null;
    reference.on('update', (update: Uint8Array) => (referenceEmitted = update));
    Y.applyUpdate(reference, decoded.bytes);
    reference.destroy();
    if (!equalBytes(Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdate(expected))) return 'the document differs from the one Y.applyUpdate made';
    if ((emitted === null) !== (referenceEmitted === null) || (emitted !== null && referenceEmitted !== null && !equalBytes(emitted, referenceEmitted))) {
      return 'its update event differs from the one Y.applyUpdate emits';
    }
    return null;
  } catch (e) {
    return `integrating threw: ${String(e)}`;
  } finally {
    doc.destroy();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Runs `cases` cases of `seed` from case `from`; keeps the first `keep` failures whole. */
export function runFuzz(seed: number, cases: number, options: { from?: number; keep?: number; onProgress?: (tally: Tally) => void } = {}): Tally {
  const from = options.from ?? 0;
  const keep = options.keep ?? 20;
  const tally: Tally = { cases: 0, accepted: 0, failures: [], byKind: {}, ms: 0 };
  const start = performance.now();
  let world: World | null = null;
  let worldIndex = -1;
  for (let index = from; index < from + cases; index++) {
    const w = Math.floor(index / CASES_PER_WORLD);
    if (world === null || w !== worldIndex) {
      world?.doc.destroy();
      world = buildWorld(worldSeed(seed, w));
      worldIndex = w;
    }
    const { fuzz } = fuzzCase(seed, index, world);
    let broken: { kind: string; detail: string } | null;
    try {
      broken = judgeCase(world, fuzz, tally);
    } catch (e) {
      broken = { kind: 'harness', detail: String(e) };
    }
    tally.cases++;
    if (broken !== null) {
      tally.byKind[broken.kind] = (tally.byKind[broken.kind] ?? 0) + 1;
      if (tally.failures.length < keep) tally.failures.push({ seed, index, ...broken, steps: fuzz.steps, update: toBase64(fuzz.update) });
    }
    if (options.onProgress !== undefined && tally.cases % 10_000 === 0) {
      tally.ms = performance.now() - start;
      options.onProgress(tally);
    }
  }
  tally.ms = performance.now() - start;
  return tally;
}
