/**
 * A full disk must not lose what was acknowledged, nor serve what was not
 * stored (issue 13, fault 1). The data directory is a small file system the
 * test makes (tmpfs, as root; a file-size limit where mounting is not
 * allowed), filled with a filler file so the run is quick. A writer sends
 * messages until the server refuses them and keeps sending; readers (one that
 * stays, and fresh ones that sync from scratch) record every message they are
 * served. The filler goes, the writer sends until acks resume, the process
 * is killed with SIGKILL and started again on the same directory, and:
 *
 * - every acknowledged message is there, with its order stamp;
 * - no refused message was served to a reader, or is stored;
 * - `msg_index` holds no gap in the conversation's sequence;
 * - the stored document has no pending (unintegrated) structs;
 * - /ready said 503 (storage-full) during the fault, 200 after.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { afterEach, expect, it } from 'vitest';
import { conversationId, conversationPath, MESSAGE_CONTROL, MESSAGE_SYNC, parseControlFrame, type ControlFrame } from '@parley/protocol';
import { cleanup, message, openDoc, signUp, storedDoc, synced, thisSegment, waitFor, type Client, type TestServer } from './helpers.ts';
import { killProcesses, startProcess, stopProcess, type ServerProcess } from './process.ts';

/** The small file system: room for the database of a fresh server and a little more, then the filler takes the rest. */
const FS_MB = 16;
/** What the filler leaves free: a few dozen commits' worth of write-ahead log. */
const LEFT_FREE = 192 * 1024;
/** Messages the writer sends at once (so some queue behind a failing batch). */
const BURST = 8;

let mounted: string | null = null;
let running: ServerProcess | null = null;

afterEach(async () => {
  if (running !== null) await stopProcess(running, 'SIGKILL');
  running = null;
  killProcesses();
  if (mounted !== null) {
    execFileSync('umount', ['-l', mounted]);
    rmdirSync(mounted);
    mounted = null;
  }
  await cleanup();
});

/** A data dir on a tmpfs of FS_MB; null where mounting is not allowed. */
function smallFileSystem(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'parley-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_MB}m`, 'tmpfs', dir], { stdio: 'ignore' });
    mounted = dir;
    return dir;
  } catch {
    rmdirSync(dir);
    return null;
  }
}

/**
 * A writer that sends each message as its own update under a fresh client id
 * (as a client does after a refusal: a new copy, a new id), over a raw
 * socket, and sorts every message into acknowledged, refused or unanswered
 * (the socket closed before an answer). It reconnects when the server closes
 * the socket.
 */
class Writer {
  readonly acked = new Set<string>();
  readonly refused = new Map<string, string>();
  readonly unanswered = new Set<string>();
  private readonly waiting = new Set<string>();
  private ws: WebSocket | null = null;

  constructor(
    private readonly server: TestServer,
    private readonly path: string,
    private readonly token: string,
  ) {}

  private async connect(): Promise<WebSocket> {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) return this.ws;
    const ws = new WebSocket(`${this.server.wsUrl}/${this.path}?token=${this.token}`);
    ws.binaryType = 'arraybuffer';
    ws.on('message', (data: ArrayBuffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data));
      if (decoding.readVarUint(decoder) !== MESSAGE_CONTROL) return;
      const frame = parseControlFrame(decoding.readVarString(decoder));
      if (frame !== null) this.answer(frame);
    });
    ws.on('close', () => {
      for (const id of this.waiting) this.unanswered.add(id);
      this.waiting.clear();
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.ws = ws;
    return ws;
  }

  private answer(frame: ControlFrame): void {
    if (frame.type !== 'ack' && frame.type !== 'reject') return;
    for (const id of frame.msgIds) {
      if (!this.waiting.delete(id)) continue;
      if (frame.type === 'ack') this.acked.add(id);
      else this.refused.set(id, frame.code);
    }
  }

  /** Sends BURST messages and waits until each is answered or its socket closed. */
  async burst(label: string): Promise<void> {
    const ws = await this.connect();
    for (let i = 0; i < BURST; i++) {
      const doc = new Y.Doc();
      const m = message('alice', 'bob', `${label} ${i}`);
      doc.getMap('messages').set(m.id, m);
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(doc));
      this.waiting.add(m.id);
      ws.send(encoding.toUint8Array(encoder));
      doc.destroy();
    }
    await waitFor(() => this.waiting.size === 0, 'answers to a burst', 15_000);
  }

  close(): void {
    this.ws?.close();
  }
}

/** Every message id a reader has ever held in its copy (its copy only grows: nothing served is taken back). */
function served(client: Client, into: Set<string>): void {
  const messages = client.doc.getMap('messages');
  const note = (): void => {
    for (const id of messages.keys()) into.add(id);
  };
  note();
  messages.observe(note);
}

async function readyStatus(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/api/v1/ready`);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (a 404 page)
  }
  return { status: response.status, body };
}

/**
 * How the disk fills and frees: on a tmpfs, a filler file that takes all but
 * LEFT_FREE, deleted to free it (the same process goes on); under a file-size
 * limit (no mount allowed), the limit, lifted by starting the process again
 * without it.
 */
interface Fault {
  /** A shell command to run the server under (the file-size limit), if any. */
  shell: string | undefined;
  fill(): void;
  /** Frees the space; true if the same process goes on, false if it must be started again. */
  free(): boolean;
}

function tmpfsFault(dir: string): Fault {
  const filler = join(dir, 'filler');
  return {
    shell: undefined,
    fill() {
      const stats = statfsSync(dir);
      writeFileSync(filler, Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - LEFT_FREE)));
    },
    free() {
      rmSync(filler);
      return true;
    },
  };
}

/** 3 MB per file (sh counts 512-byte blocks): the write-ahead log reaches it after a few hundred messages. */
const fileSizeFault: Fault = { shell: `trap '' XFSZ; ulimit -f 6144`, fill: () => undefined, free: () => false };

it('loses no acknowledged message to a full disk, serves and stores nothing it refused, and takes writes again once there is room', async () => {
  const mountedDir = smallFileSystem();
  const dir = mountedDir ?? mkdtempSync(join(tmpdir(), 'parley-disk-'));
  if (mountedDir === null) console.warn('disk-full test: mounting a tmpfs is not allowed here; a file-size limit stands in');
  const fault = mountedDir === null ? fileSizeFault : tmpfsFault(dir);
  const env = { PARLEY_MIN_FREE_DISK_BYTES: '0', PARLEY_STORAGE_RETRY_MS: '100', PARLEY_LOG_LEVEL: 'info' };
  running = await startProcess(dir, { env, ...(fault.shell === undefined ? {} : { shell: fault.shell }) });
  let server = running.server;
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  const path = conversationPath('alice', 'bob', thisSegment());
  const servedIds = new Set<string>();
  let reader = openDoc(server, path, bob.accessToken);
  await synced(reader);
  served(reader, servedIds);
  let writer = new Writer(server, path, alice.accessToken);
  await writer.burst('before');
  expect(writer.acked.size).toBe(BURST);

  fault.fill();
  const ready: { status: number; body: unknown }[] = [];
  let bursts = 0;
  while (writer.refused.size < 3 * BURST && bursts++ < 300) {
    await writer.burst(`fault ${bursts}`);
    if (writer.refused.size > 0) {
      ready.push(await readyStatus(server.url));
      // A reader that syncs from scratch now is served the server's copy as it stands.
      const fresh = openDoc(server, path, bob.accessToken);
      await waitFor(() => fresh.provider.synced || fresh.closeCode !== null, 'a fresh reader synced or closed', 10_000);
      served(fresh, servedIds);
      fresh.destroy();
    }
  }
  expect(writer.refused.size).toBeGreaterThan(0);

  // Room again: writes are taken again by themselves (or, under the file-size limit, after a start without it).
  if (!fault.free()) {
    reader.destroy();
    writer.close();
    await stopProcess(running, 'SIGKILL');
    running = await startProcess(dir, { env });
    server = running.server;
    const before = writer;
    writer = new Writer(server, path, alice.accessToken);
    for (const id of before.acked) writer.acked.add(id);
    for (const [id, code] of before.refused) writer.refused.set(id, code);
    reader = openDoc(server, path, bob.accessToken);
    await synced(reader);
    served(reader, servedIds);
  }
  const ackedBeforeRoom = writer.acked.size;
  let after = 0;
  while (writer.acked.size < ackedBeforeRoom + 2 * BURST && after++ < 300) await writer.burst(`after ${after}`);
  const readyAfter = await readyStatus(server.url);
  // What the reader holds once it has caught up with the last acknowledged message.
  await waitFor(() => [...writer.acked].every((id) => servedIds.has(id)), 'the reader to hold every acknowledged message', 10_000);
  writer.close();
  reader.destroy();
  await stopProcess(running, 'SIGKILL');

  running = await startProcess(dir, { env });
  const again = openDoc(running.server, path, bob.accessToken);
  await synced(again);
  const messages = again.doc.getMap('messages');
  const seq = again.doc.getMap<number>('seq');
  const afterRestart = { ids: new Set(messages.keys()), stamps: new Map([...seq.entries()]) };
  again.destroy();
  await stopProcess(running, 'SIGKILL');
  running = null;

  const stored = await storedDoc(dir, path);
  const storedIds = new Set(stored.getMap('messages').keys());
  const pendingStructs = stored.store.pendingStructs !== null;
  stored.destroy();
  const db = new Database(join(dir, 'parley.db'), { readonly: true });
  const index = db.prepare<[string], { seq: number; id: string }>('SELECT seq, id FROM msg_index WHERE conversation = ? ORDER BY seq').all(conversationId('alice', 'bob'));
  db.close();
  const indexed = new Set(index.map((row) => row.id));
  const refused = [...writer.refused.keys()];
  const stamped = (id: string): boolean => Number(afterRestart.stamps.get(id)) > 0;

  const figures = {
    missingAcked: [...writer.acked].filter((id) => !afterRestart.ids.has(id)).length,
    unstampedAcked: [...writer.acked].filter((id) => !stamped(id)).length,
    refusedServed: refused.filter((id) => servedIds.has(id)).length,
    refusedStored: refused.filter((id) => storedIds.has(id) || indexed.has(id)).length,
    unstampedStored: [...storedIds].filter((id) => !stamped(id)).length,
    indexGaps: index.filter((row, i) => row.seq !== i + 1).length,
    pendingStructs,
    refusalCodes: [...new Set(writer.refused.values())].sort(),
    readyDuringFault: ready.some((r) => r.status === 503 && /storage-(full|unavailable)/.test(JSON.stringify(r.body))),
    readyAfter: readyAfter.status,
  };
  console.info('disk-full figures', { acked: writer.acked.size, refused: refused.length, unanswered: writer.unanswered.size, ready: ready.map((r) => r.status), ...figures });
  expect(figures).toEqual({
    missingAcked: 0,
    unstampedAcked: 0,
    refusedServed: 0,
    refusedStored: 0,
    unstampedStored: 0,
    indexGaps: 0,
    pendingStructs: false,
    // ENOSPC on the tmpfs; a file-size limit (EFBIG) may read as an I/O error.
    refusalCodes: mountedDir === null ? (expect.arrayContaining([expect.stringMatching(/^storage-/)]) as string[]) : ['storage-full'],
    readyDuringFault: true,
    readyAfter: 200,
  });
}, 120_000);
