/**
 * Memory that a client can make the server hold, measured on a real server
 * process (its RSS, read from /proc): a socket that never reads while a lot
 * is broadcast to it, and a flood of sync step 1 requests for a large
 * document. Each measures RSS after a warm-up (the same work with honest
 * readers, so the allocator and heap have grown to their working size), and
 * its largest value during the run; nothing is forced (no GC call).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { conversationPath, MESSAGE_SYNC, prefsPath, type Session } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, send, signUp, synced, tempDir, thisSegment, waitFor, type Client } from './helpers.ts';
import { killProcesses, rssOf, startProcess, type ServerProcess } from './process.ts';

const samplers: { stop(): number }[] = [];
afterEach(async () => {
  for (const s of samplers.splice(0)) s.stop();
  await cleanup();
  killProcesses();
});

const MB = 1024 * 1024;

/** The largest RSS of `pid` seen while the run goes on, sampled every few milliseconds. */
function watchRss(pid: number): { stop(): number } {
  let peak = rssOf(pid);
  const sample = (): void => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // The process is gone (a failed test killed it).
    }
  };
  const timer = setInterval(sample, 5);
  const sampler = {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
  samplers.push(sampler);
  return sampler;
}

/** The text of every draft written in `round`. */
const writtenText = (round: number, size = 4000): string => `${round}:`.padEnd(size, String(round % 10));

/** One transaction of `count` drafts of `size` characters each (keys p0…): an overwrite of the same keys each time. */
function writeDrafts(client: Client, round: number, count: number, size: number): void {
  const drafts = client.doc.getMap('drafts');
  const text = writtenText(round, size);
  client.doc.transact(() => {
    for (let i = 0; i < count; i++) drafts.set(`p${i}`, { text, ts: Date.now() });
  });
}

/** The figures a test prints for the report: RSS in MB. */
const mb = (bytes: number): string => (bytes / MB).toFixed(1);

const p99 = (values: readonly number[]): number => [...values].sort((x, y) => x - y)[Math.max(0, Math.ceil(values.length * 0.99) - 1)] ?? 0;

it('closes a socket that does not read once its buffer passes the cap, keeps RSS within 50 MB, and the client resyncs', async () => {
  // A cap below the default (16 MiB), so that what RSS shows is the bound and not the heap's own swings.
  const proc = await startProcess(tempDir(), { env: { PARLEY_MAX_SOCKET_BUFFER_BYTES: String(4 * MB) } });
  const { server } = proc;
  const alice = await signUp(server.url, 'alice', 'busy');
  const bob = await signUp(server.url, 'bob');
  // Two devices of one user on their prefs: one writes drafts (they overwrite
  // each other, so the server's document stays small while megabytes are
  // broadcast), the other holds the document open and stops reading.
  const prefs = prefsPath('alice');
  const busy = openDoc(server, prefs, alice.accessToken);
  const conversation = conversationPath('alice', 'bob', thisSegment());
  const honest = openDoc(server, conversation, bob.accessToken);
  await Promise.all([synced(busy), synced(honest)]);

  // Many mid-sized frames rather than a few huge ones: what a busy document
  // broadcasts, and garbage the server's heap takes in its stride, so that
  // what RSS shows is what the slow socket holds.
  const WARM_UP = 6;
  const ROUNDS = 30;
  const UPDATES_PER_ROUND = 10;
  const DRAFTS = 64;
  const DRAFT_SIZE = 4000;
  const latencies: number[] = [];
  let round = 0;
  const draftAcks = (): number => busy.frames.filter((f) => f.type === 'ack').length;
  /** One round: 10 draft updates of ~256 KB from the busy device and one honest message from bob, all acked. */
  const runRound = async (): Promise<void> => {
    round++;
    const before = draftAcks();
    for (let u = 0; u < UPDATES_PER_ROUND; u++) writeDrafts(busy, round, DRAFTS, DRAFT_SIZE);
    const m = message('bob', 'alice', `honest ${round}`);
    const sentAt = performance.now();
    let ackedAt = 0;
    honest.onFrame = (frame) => {
      if (frame.type === 'ack' && frame.msgIds.includes(m.id)) ackedAt = performance.now();
    };
    send(honest, m);
    await waitFor(() => draftAcks() === before + UPDATES_PER_ROUND && ackedAt > 0, `round ${round} acked`, 15_000);
    latencies.push(ackedAt - sentAt);
  };

  // Warm-up: the same work with every socket reading.
  for (let i = 0; i < WARM_UP; i++) await runRound();
  const slowSession = await api<Session>(server.url, 'POST', '/auth/signin', { user: 'alice', password: 'correct horse', device: 'slow' });
  const slow = openDoc(server, prefs, slowSession.body.accessToken);
  await synced(slow);
  latencies.length = 0;
  const start = rssOf(proc.child.pid ?? 0);
  const rss = watchRss(proc.child.pid ?? 0);

  // The slow device stops reading: its TCP socket is paused under the WebSocket.
  const slowSocket = (slow.provider.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  slowSocket.pause();
  for (let i = 0; i < ROUNDS; i++) await runRound();
  const peak = rss.stop();
  const end = rssOf(proc.child.pid ?? 0);
  const closedLine = proc.lines.find((line) => line.includes('"socket-too-slow"'));
  console.log(
    `slow socket: ${mb(ROUNDS * UPDATES_PER_ROUND * DRAFTS * DRAFT_SIZE)} MB broadcast; RSS start ${mb(start)} MB, peak ${mb(peak)} MB (+${mb(peak - start)}), end ${mb(end)} MB; ` +
      `honest ack p99 ${p99(latencies).toFixed(0)} ms over ${latencies.length}; closed: ${closedLine ?? 'no'}`,
  );

  expect(peak - start).toBeLessThan(50 * MB);
  expect(closedLine).toBeDefined();
  expect(acks(honest)).toHaveLength(WARM_UP + ROUNDS);

  // The device reads again: it finds its connection gone (the close frame
  // waited behind what it did not read, so it sees 1006 rather than 4509),
  // reconnects by itself and syncs the drafts it missed.
  const pausedSocket = slow.provider.ws;
  slowSocket.resume();
  await waitFor(() => slow.provider.ws !== pausedSocket && slow.provider.synced, 'the slow device reconnected', 15_000);
  const last = writtenText(round);
  await waitFor(() => (slow.doc.getMap('drafts').get('p0') as { text?: string } | undefined)?.text === last, 'the slow device resynced', 15_000);
}, 60_000);

/**
 * A raw socket that sends sync step 1 frames and reads everything: it keeps
 * the sizes of the step 2 answers, and applies the first to its own copy.
 */
function stepOneFlooder(url: string): { ws: WebSocket; doc: Y.Doc; answers: number[]; opened: Promise<void> } {
  const ws = new WebSocket(url);
  const doc = new Y.Doc();
  const answers: number[] = [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
    const sub = decoding.readVarUint(decoder);
    if (sub === syncProtocol.messageYjsSyncStep1) opened();
    if (sub !== syncProtocol.messageYjsSyncStep2) return;
    const update = decoding.readVarUint8Array(decoder);
    if (answers.length === 0) Y.applyUpdate(doc, update);
    answers.push(update.length);
  });
  ws.on('error', () => undefined);
  return { ws, doc, answers, opened: open };
}

/** Sync step 1 with a state vector: "send me what I lack". */
function stepOne(stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep1);
  encoding.writeVarUint8Array(encoder, stateVector);
  return encoding.toUint8Array(encoder);
}

it('answers a flood of sync step 1 requests for a 5 MB document without holding an answer per request (RSS within 50 MB)', async () => {
  const proc: ServerProcess = await startProcess(tempDir());
  const { server } = proc;
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const writer = openDoc(server, path, alice.accessToken);
  await synced(writer);
  // About 5 MB of messages, in updates under the 4 MiB update budget.
  const text = 'x'.repeat(11_000);
  const sent: string[] = [];
  for (let batch = 0; batch < 3; batch++) {
    writer.doc.transact(() => {
      for (let i = 0; i < 155; i++) {
        const m = message('alice', 'bob', text);
        sent.push(m.id);
        send(writer, m);
      }
    });
  }
  await waitFor(() => acks(writer).length === sent.length, 'the document written', 15_000);

  const flooder = stepOneFlooder(`${server.wsUrl}/${path}?token=${encodeURIComponent(bob.accessToken)}`);
  await flooder.opened;
  // Warm-up: one honest answer of the whole document.
  const everything = stepOne(Y.encodeStateVector(new Y.Doc()));
  flooder.ws.send(everything);
  await waitFor(() => flooder.answers.length === 1, 'the first answer', 15_000);
  expect(flooder.answers[0]).toBeGreaterThan(5_000_000);
  const start = rssOf(proc.child.pid ?? 0);
  const rss = watchRss(proc.child.pid ?? 0);

  // Sixty requests for the whole document (a few hundred bytes), then one
  // for what the flooder lacks (nothing): answers leave in order, so the
  // flood is over once a small answer arrives.
  const REQUESTS = 60;
  for (let i = 0; i < REQUESTS; i++) flooder.ws.send(everything);
  flooder.ws.send(stepOne(Y.encodeStateVector(flooder.doc)));
  await waitFor(() => (flooder.answers.at(-1) ?? Infinity) < 10_000 && flooder.answers.length > 1, 'the answer to the last request', 15_000);
  const peak = rss.stop();
  const big = flooder.answers.slice(1).filter((n) => n > 5_000_000).length;
  console.log(`step-1 flood: ${REQUESTS + 1} requests, ${flooder.answers.length - 1} answers (${big} of the whole document); RSS start ${mb(start)} MB, peak ${mb(peak)} MB (+${mb(peak - start)})`);
  expect(peak - start).toBeLessThan(50 * MB);
  flooder.ws.terminate();
  flooder.doc.destroy();
}, 60_000);
