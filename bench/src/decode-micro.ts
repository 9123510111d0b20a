/**
 * The decode steps of the accept path alone, old way against new, in one
 * process and alternating, so that a shared machine's noise hits both alike:
 *
 * - three decodes: validateUpdate, then Y.parseUpdateMeta (the ack) and
 *   Y.applyUpdate, as the server did before;
 * - one decode: validateUpdate, then integrateDecoded from its structs.
 *
 * Each trial validates and applies the same updates (one new text message
 * each, from `clients` devices in turn) to a fresh document; figures are CPU
 * µs per update, the lowest and the median trial.
 *
 *   npx tsx bench/src/decode-micro.ts [updates=4000] [trials=9] [clients=20]
 */
import * as Y from 'yjs';
import { conversationPath, integrateDecoded, parseDocPath, segmentOf, validateUpdate, type Message } from '@parley/protocol';

const updates = Number(process.argv[2] ?? 4000);
const trials = Number(process.argv[3] ?? 9);
const clients = Number(process.argv[4] ?? 20);
const path = parseDocPath(conversationPath('alice', 'bob', segmentOf(Date.now())));
if (path === null) throw new Error('bad path');

/** The updates, encoded once: device `i % clients` writes message i. */
function makeUpdates(): Uint8Array[] {
  const devices = Array.from({ length: clients }, (_, i) => {
    const doc = new Y.Doc();
    doc.clientID = 1000 + i;
    return doc;
  });
  const out: Uint8Array[] = [];
  for (let i = 0; i < updates; i++) {
    const doc = devices[i % clients]!;
    const listen = (update: Uint8Array): void => {
      out.push(update);
    };
    doc.on('update', listen);
    const message: Message = { id: `m${i}`, from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: `on my way, see you at the station #${i}` }], ts: Date.now(), profile: { nickname: 'Alice' } };
    doc.getMap('messages').set(message.id, message);
    doc.off('update', listen);
  }
  return out;
}

function trial(all: readonly Uint8Array[], oneDecode: boolean): number {
  const doc = new Y.Doc();
  const now = Date.now();
  const start = process.cpuUsage();
  for (const update of all) {
    const verdict = validateUpdate(update, { user: 'alice', path: path!, doc, now });
    if (!verdict.ok) throw new Error(verdict.detail);
    if (oneDecode) integrateDecoded(doc, verdict.decoded, null);
    else {
      Y.parseUpdateMeta(update);
      Y.applyUpdate(doc, update);
    }
  }
  const used = process.cpuUsage(start);
  doc.destroy();
  return (used.user + used.system) / all.length;
}

const all = makeUpdates();
const results = { three: [] as number[], one: [] as number[] };
for (let t = 0; t < trials; t++) {
  results.three.push(trial(all, false));
  results.one.push(trial(all, true));
}
const describe = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `lowest ${sorted[0]!.toFixed(1)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs/update`;
};
console.log(`${updates} updates from ${clients} devices, ${trials} trials each`);
console.log(`three decodes (validate, parseUpdateMeta, applyUpdate): ${describe(results.three)}`);
console.log(`one decode (validate, integrateDecoded):                ${describe(results.one)}`);
