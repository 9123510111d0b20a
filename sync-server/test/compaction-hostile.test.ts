/**
 * Compaction against a document a client damaged, in a real server process:
 * found by the sync fuzzer (npm run fuzz, seed 102930434), where the server
 * exited with "Integer out of Range" after about 3,400 frames.
 *
 * The validator accepted a delete set of the sender's own client id that
 * covers clocks the server does not hold (issue 13, fault 3), with clocks and
 * lengths near 2^53. Yjs keeps them as a pending delete set, and summing them
 * leaves the safe integers, so that Y.encodeStateAsUpdate of the document
 * throws. Compaction runs in a timer (on unload, or after COMPACT_AFTER
 * rows), so the throw ended the process. The validator now refuses such a
 * delete set; a data file written before that may still hold one, and a
 * compaction that fails on it must not end the process.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { conversationPath, MESSAGE_CONTROL, MESSAGE_SYNC, parseControlFrame, type ControlFrame } from '@parley/protocol';
import { SqliteStorage } from '../src/storage/sqlite.ts';
import { syncStep2Message } from '../src/sync/frames.ts';
import { message, signUp, tempDir, thisSegment, waitFor, cleanup } from './helpers.ts';
import { killProcesses, startProcess, stopProcess } from './process.ts';

afterEach(killProcesses);
afterEach(cleanup);

/** The client id whose clocks the hostile delete set names. */
const CLIENT = 127;

/** The 12 deletion ranges (clock, length) of CLIENT that the fuzzer's frame came down to. */
const RANGES: readonly [number, number][] = [
  [53, 2 ** 53 - 1],
  [21, 2 ** 53 - 1],
  [49, 2 ** 53 - 1],
  [127, 3],
  [2 ** 53 - 1, 2 ** 53 - 1],
  [2 ** 31 - 1, 4],
  [2 ** 53 - 1, 8],
  [2 ** 31 - 1, 2 ** 53 - 1],
  [2 ** 32 - 1, 2 ** 53 - 1],
  [2 ** 32 - 1, 2 ** 32 - 1],
  [99, 5],
  [2 ** 53 - 1, 7],
];

/** An update of no structs whose delete set is RANGES of CLIENT. */
function hostileDeleteSet(): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, CLIENT);
  encoding.writeVarUint(encoder, RANGES.length);
  for (const [clock, len] of RANGES) {
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarUint(encoder, len);
  }
  return encoding.toUint8Array(encoder);
}

/** Opens `path` as `token`'s user on a raw socket: the control frames it gets, and whether the server's step 1 came. */
function rawSocket(wsUrl: string, path: string, token: string): { ws: WebSocket; frames: ControlFrame[]; opened: () => boolean } {
  const ws = new WebSocket(`${wsUrl}/${path}?token=${encodeURIComponent(token)}`);
  const frames: ControlFrame[] = [];
  let opened = false;
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SYNC) opened = true;
    if (type !== MESSAGE_CONTROL) return;
    const frame = parseControlFrame(decoding.readVarString(decoder));
    if (frame !== null) frames.push(frame);
  });
  return { ws, frames, opened: () => opened };
}

describe('compaction of a document a client damaged', () => {
  it('refuses the delete set now, and a stored one is logged and skipped at compaction while the process lives on', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_UNLOAD_AFTER_MS: '100', PARLEY_LOG_LEVEL: 'info' };
    const first = await startProcess(dataDir, { env });
    await signUp(first.server.url, 'alice');
    const mallory = await signUp(first.server.url, 'mallory');
    const path = conversationPath('alice', 'mallory', thisSegment());
    const socket = rawSocket(first.server.wsUrl, path, mallory.accessToken);
    await waitFor(socket.opened, 'the document open');

    // A message under CLIENT claims it for mallory; then the delete set of CLIENT's clocks nobody holds.
    const doc = new Y.Doc();
    doc.clientID = CLIENT;
    const sent = message('mallory', 'alice', 'hello');
    doc.getMap('messages').set(sent.id, sent);
    socket.ws.send(syncStep2Message(Y.encodeStateAsUpdate(doc)));
    doc.destroy();
    await waitFor(() => socket.frames.some((f) => f.type === 'ack' && f.msgIds.includes(sent.id)), 'the message acknowledged');
    socket.ws.send(syncStep2Message(hostileDeleteSet()));
    await waitFor(() => socket.frames.some((f) => f.type === 'reject'), 'the answer to the delete set');
    // Its ranges reach past 2^53 clocks: refused before the validator even asks whether the server holds them.
    expect(socket.frames.find((f) => f.type === 'reject')).toMatchObject({ code: 'schema-invalid' });
    socket.ws.close();
    await stopProcess(first);

    // A data file from before the validator refused it holds the delete set as a log row.
    const storage = new SqliteStorage(`${dataDir}/parley.db`);
    await storage.commit([{ kind: 'update', doc: path, data: hostileDeleteSet() }]);
    await storage.close();

    const p = await startProcess(dataDir, { env });
    const again = rawSocket(p.server.wsUrl, path, mallory.accessToken);
    await waitFor(again.opened, 'the damaged document open');
    // Closed: the document unloads after 100 ms, and compacts on the way out.
    again.ws.close();

    const exited = new Promise<string>((resolve) => p.child.once('exit', (code, signal) => resolve(`exited with ${code ?? signal}`)));
    const failed = waitFor(() => p.lines.some((l) => l.includes('compaction failed')), 'the compaction failure logged', 10_000).then(() => 'logged');
    expect(await Promise.race([exited, failed])).toBe('logged');
    const line = JSON.parse(p.lines.find((l) => l.includes('compaction failed')) ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 50, doc: path });
    expect(JSON.stringify(line)).not.toContain('stack');
    // Still serving.
    const response = await fetch(`${p.server.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(p.child.exitCode).toBeNull();
  }, 60_000);
});
