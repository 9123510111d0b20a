/**
 * Frames out of a sync socket in one write per tick, each frame encoded once
 * however many sockets it goes to.
 *
 * A broadcast sends the same bytes to every other connection of a document,
 * and a server's frames are unmasked, so their WebSocket framing (header and
 * payload) is the same for every receiver: it is built once, on the first
 * send, and shared (`wsFrame`). Each socket's frames of one tick (a batch's
 * broadcasts, an update and its ack) are queued and written together when
 * the tick ends, as one buffer: one `write` per socket per tick, where `ws`
 * made two writes per frame (header, payload) and a `writev` of them all.
 *
 * This writes to the socket `ws` owns, beside it: sound while `ws` itself
 * queues nothing (no permessage-deflate, which the server turns off, and no
 * Blob sends), so that everything reaches the socket in the order it was
 * written. `flush` before `ws` writes a frame of its own that must follow
 * ours (a close).
 */
import type { Duplex } from 'node:stream';

/** A frame's payload above this is written on its own, not copied into the tick's buffer. */
const COPY_LIMIT = 64 * 1024;

/** FIN + binary: every frame the server sends is one whole binary message. */
const FIN_BINARY = 0x82;

const framed = new WeakMap<Uint8Array, readonly Uint8Array[]>();

/** The WebSocket frame of `payload` (server to client: unmasked), as chunks to write in order. */
export function wsFrame(payload: Uint8Array): readonly Uint8Array[] {
  const known = framed.get(payload);
  if (known !== undefined) return known;
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame: readonly Uint8Array[] =
    length <= COPY_LIMIT ? [writeHeader(Buffer.allocUnsafe(headerLength + length), length, payload)] : [writeHeader(Buffer.allocUnsafe(headerLength), length), payload];
  framed.set(payload, frame);
  return frame;
}

/** Writes the header of a frame of `length` bytes at the start of `target`, and `payload` after it if given. */
function writeHeader(target: Buffer, length: number, payload?: Uint8Array): Buffer {
  target[0] = FIN_BINARY;
  let offset = 2;
  if (length < 126) target[1] = length;
  else if (length < 65_536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
    offset = 4;
  } else {
    target[1] = 127;
    target.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    target.writeUInt32BE(length >>> 0, 6);
    offset = 10;
  }
  if (payload !== undefined) target.set(payload, offset);
  return target;
}

/** Writers with frames queued in this tick; all are flushed when it ends. */
const dirty = new Set<SocketWriter>();

function flushDirty(): void {
  for (const writer of dirty) writer.flush();
  dirty.clear();
}

export class SocketWriter {
  private chunks: Uint8Array[] = [];
  /** Bytes queued in this tick and not yet handed to the socket. */
  queued = 0;

  constructor(
    private readonly socket: Duplex,
    /** Whether the WebSocket is still open: once it is closing, a data frame must not follow its close frame. */
    private readonly open: () => boolean,
  ) {}

  /** Queues `payload` as one binary frame; it is written when this tick ends. */
  send(payload: Uint8Array): void {
    for (const chunk of wsFrame(payload)) {
      this.chunks.push(chunk);
      this.queued += chunk.length;
    }
    if (dirty.size === 0) process.nextTick(flushDirty);
    dirty.add(this);
  }

  /** Hands what is queued to the socket now: one buffer, or one `writev` when a large frame is among them. */
  flush(): void {
    dirty.delete(this);
    const chunks = this.chunks;
    const bytes = this.queued;
    if (chunks.length === 0) return;
    this.chunks = [];
    this.queued = 0;
    if (this.socket.destroyed || !this.open()) return;
    if (chunks.length === 1) this.socket.write(chunks[0]!);
    else if (bytes <= COPY_LIMIT) this.socket.write(Buffer.concat(chunks, bytes));
    else {
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
  }
}
