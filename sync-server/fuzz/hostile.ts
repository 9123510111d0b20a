/**
 * The hostile side of the sync fuzzer: raw `ws` sockets of hostile accounts,
 * each a session on one document (the account's inbox or prefs, a
 * conversation with another hostile account — both fuzz it at once — or one
 * with an honest user). A session sends frames from frames.ts in windows of
 * a few, and after each window pings the server and waits for its pong: ws
 * answers a ping only after it has handed every earlier frame to the sync
 * core, so at most one window per socket is in flight and the figures measure
 * the server, not a queue in front of it. A server that closes the socket
 * (1002 after PARLEY_MAX_MALFORMED_FRAMES) ends the session; the worker opens
 * the next one and goes on.
 */
import * as decoding from 'lib0/decoding';
import * as prng from 'lib0/prng';
import { WebSocket } from 'ws';
import { MESSAGE_CONTROL, MESSAGE_SYNC, parseControlFrame, parseDocPath } from '@parley/protocol';
import { HonestWriter, nextFrame, type Frame, type Rng } from './frames.ts';

export interface HostileAccount {
  user: string;
  token: string;
  /** The documents it may open. */
  docs: string[];
}

/** What the hostile side saw, summed over its workers. */
export interface HostileTally {
  frames: number;
  bytes: number;
  byKind: Record<string, number>;
  sessions: number;
  /** Sessions the server closed, by close code (1002: too many malformed frames). */
  closedBy: Record<string, number>;
  /** Connections refused before any sync frame, by code (rate-limited, too-many-sockets, …). */
  refused: Record<string, number>;
  /** Control frames the server sent the hostile sockets, by type and code. */
  controls: Record<string, number>;
}

export const emptyTally = (): HostileTally => ({ frames: 0, bytes: 0, byKind: {}, sessions: 0, closedBy: {}, refused: {}, controls: {} });

const bump = (counts: Record<string, number>, key: string, n = 1): void => void (counts[key] = (counts[key] ?? 0) + n);

/** The last frames a worker sent, hex, kept to replay what came before a crash. */
export class RecentFrames {
  private readonly frames: { at: number; kind: string; hex: string }[] = [];
  constructor(private readonly keep: number) {}
  add(frame: Frame): void {
    this.frames.push({ at: Date.now(), kind: frame.kind, hex: Buffer.from(frame.bytes.subarray(0, 4096)).toString('hex') });
    if (this.frames.length > this.keep) this.frames.shift();
  }
  list(): readonly { at: number; kind: string; hex: string }[] {
    return this.frames;
  }
}

export interface WorkerOptions {
  wsUrl: string;
  accounts: readonly HostileAccount[];
  /** This worker's share of the frames. */
  frames: number;
  /** Frames sent between two pings. */
  window: number;
  rng: Rng;
  tally: HostileTally;
  recent: RecentFrames;
  /** True once the run is over (the server crashed): the worker stops. */
  stopped: () => boolean;
}

/** One worker: sessions one after another until its share of frames is sent. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  let left = options.frames;
  let empty = 0;
  while (left > 0 && !options.stopped()) {
    const account = prng.oneOf(options.rng, options.accounts as HostileAccount[]);
    const path = prng.oneOf(options.rng, account.docs);
    // A session of 5 to 200 frames, often ended by the server before that.
    const sent = await session(options, account, path, Math.min(left, prng.int53(options.rng, 5, 200)));
    left -= sent;
    empty = sent === 0 ? empty + 1 : 0;
    if (empty > 100) throw new Error(`the server refused 100 sessions in a row: ${JSON.stringify(options.tally.refused)}`);
  }
}

/** Opens a socket, sends up to `length` frames, closes; resolves with the frames sent. */
async function session(options: WorkerOptions, account: HostileAccount, path: string, length: number): Promise<number> {
  const { rng, tally } = options;
  const parsed = parseDocPath(path);
  if (parsed === null) throw new Error(`not a document path: ${path}`);
  const writer = new HonestWriter(rng, account.user, parsed);
  const waitForOpen = prng.int53(rng, 0, 4) > 0;
  const ws = new WebSocket(`${options.wsUrl}/${path}?token=${encodeURIComponent(account.token)}`);
  tally.sessions++;
  let opened = false;
  let closed = false;
  const onOpen: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SYNC && !opened) {
      opened = true;
      for (const f of onOpen.splice(0)) f();
    }
    if (type !== MESSAGE_CONTROL) return;
    const frame = parseControlFrame(decoding.readVarString(decoder));
    if (frame === null) return;
    if (frame.type === 'refused') bump(tally.refused, frame.code);
    else if (frame.type === 'ack' || frame.type === 'reject') bump(tally.controls, frame.type === 'ack' ? 'ack' : `reject:${frame.code}`);
  });
  ws.on('error', () => undefined);
  const closedAt = new Promise<number>((resolve) =>
    ws.once('close', (code) => {
      closed = true;
      for (const f of onOpen.splice(0)) f();
      resolve(code);
    }),
  );
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve());
    ws.once('close', () => resolve());
  });
  // Mostly after the server opened the document (its step 1 came); sometimes at once, while the token is checked.
  if (waitForOpen && !closed && !opened) await new Promise<void>((resolve) => onOpen.push(resolve));

  let sent = 0;
  while (sent < length && !closed && !options.stopped()) {
    // The window is drawn before anything is sent, so a seed gives each worker the same frames however the server answers.
    const window = Array.from({ length: Math.min(options.window, length - sent) }, () => nextFrame(rng, writer));
    for (const frame of window) {
      if (ws.readyState === ws.OPEN) ws.send(frame.bytes);
      options.recent.add(frame);
      tally.frames++;
      tally.bytes += frame.bytes.length;
      bump(tally.byKind, frame.kind);
    }
    sent += window.length;
    if (prng.int53(rng, 0, 9) === 0) writer.renew();
    await barrier(ws);
  }
  writer.destroy();
  if (!closed) ws.close(1000);
  const code = await closedAt;
  if (code !== 1000 && code !== 1005) bump(tally.closedBy, String(code));
  return sent;
}

/** Resolves once the server answered a ping sent after everything before it (or the socket closed). */
function barrier(ws: WebSocket): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      ws.off('pong', done);
      ws.off('close', done);
      resolve();
    };
    ws.on('pong', done);
    ws.on('close', done);
    ws.ping();
  });
}
