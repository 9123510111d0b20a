import { createRequire } from 'node:module';
import { PassThrough, type Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SocketWriter, wsFrame } from './socket-writer.ts';

/** ws's frame parser (not in its type declarations): what every ws client reads frames with. */
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean }) => Writable };

/** The binary messages a WebSocket client reads from `bytes` (ws's own parser, as a client: unmasked frames). */
function readMessages(bytes: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer) => messages.push(new Uint8Array(data)));
  receiver.write(bytes);
  return messages;
}

function payload(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) % 256;
  return bytes;
}

describe('socket writer', () => {
  it('frames payloads of every length class as a client reads them', () => {
    for (const length of [0, 1, 125, 126, 65_535, 65_536, 200_000]) {
      const bytes = payload(length, length);
      const read = readMessages(Buffer.concat(wsFrame(bytes)));
      expect(read).toHaveLength(1);
      // Compared as buffers: a deep equality over 200,000 elements takes seconds.
      expect(Buffer.from(read[0]!).equals(bytes)).toBe(true);
    }
  });

  it('builds a frame once for every socket it goes to', () => {
    const bytes = payload(300, 1);
    expect(wsFrame(bytes)).toBe(wsFrame(bytes));
  });

  it('writes one tick’s frames in one write, in order, when the tick ends', async () => {
    const socket = new PassThrough();
    const writes: Buffer[] = [];
    const write = socket.write.bind(socket);
    socket.write = ((chunk: Buffer) => {
      writes.push(Buffer.from(chunk));
      return write(chunk);
    }) as typeof socket.write;
    const writer = new SocketWriter(socket, () => true);
    const sent = [payload(10, 1), payload(300, 2), payload(5, 3)];
    for (const bytes of sent) writer.send(bytes);
    expect(writes).toHaveLength(0);
    expect(writer.queued).toBe(12 + 304 + 7);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writes).toHaveLength(1);
    expect(readMessages(writes[0]!)).toEqual(sent);
    expect(writer.queued).toBe(0);
  });

  it('sends nothing once the WebSocket is closing', async () => {
    const socket = new PassThrough();
    let open = true;
    const writer = new SocketWriter(socket, () => open);
    writer.send(payload(10, 1));
    open = false;
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.read()).toBeNull();
  });
});
