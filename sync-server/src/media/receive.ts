/**
 * Streams a request body into a file, counting, with a hard cap: the moment
 * the next chunk would pass `room`, reading stops, that chunk is dropped and
 * the body is left unread (paused) for the caller to refuse and close. Memory
 * stays at one socket chunk plus the file stream's buffer, whatever the body's
 * size: the source is paused while the file catches up.
 */
import type { Readable, Writable } from 'node:stream';

export interface Received {
  /** `done`: the body ended; `over`: it would have passed `room`; `cut`: it broke off (or was stopped). */
  outcome: 'done' | 'over' | 'cut';
  /** Bytes written to the sink (all flushed when this settles). */
  bytes: number;
}

export interface Receiving {
  done: Promise<Received>;
  /** Bytes written so far. */
  bytes(): number;
  /** Stops reading now (a newer request for the same upload took over): `cut`, the source destroyed. */
  stop(): void;
}

export function receive(source: Readable, sink: Writable, room: number, tap?: (chunk: Buffer) => void): Receiving {
  let bytes = 0;
  let settled = false;
  let stop: () => void = () => undefined;

  const done = new Promise<Received>((resolve, reject) => {
    const onDrain = (): void => {
      if (!settled) source.resume();
    };
    const finish = (outcome: Received['outcome']): void => {
      if (settled) return;
      settled = true;
      source.pause();
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onCut);
      source.off('close', onClose);
      sink.off('drain', onDrain);
      // Everything written is on disk (as far as the file stream goes) before this settles.
      sink.end(() => resolve({ outcome, bytes }));
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      if (bytes + chunk.length > room) return finish('over');
      bytes += chunk.length;
      tap?.(chunk);
      if (!sink.write(chunk)) source.pause();
    };
    const onEnd = (): void => finish('done');
    const onCut = (): void => finish('cut');
    const onClose = (): void => {
      if (!source.readableEnded) finish('cut');
    };
    // A body broken off after this settled must not surface as an unhandled error.
    source.on('error', () => undefined);
    sink.on('drain', onDrain);
    sink.once('error', (error) => {
      settled = true;
      source.pause();
      reject(error);
    });
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onCut);
    source.once('close', onClose);
    stop = () => {
      finish('cut');
      source.destroy();
    };
    // The body may have ended, or broken off, before this started listening.
    if (source.readableEnded) finish('done');
    else if (source.destroyed) finish('cut');
    else source.resume();
  });
  return { done, bytes: () => bytes, stop: () => stop() };
}
