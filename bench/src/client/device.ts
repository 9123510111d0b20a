/**
 * A lean sync client: one WebSocket, one Y.Doc, one document — what a device
 * keeps per open document, without WebsocketProvider's awareness, timers and
 * BroadcastChannel, so one process can hold thousands. It speaks the real
 * protocols:
 *
 *   parley, yws:  y-websocket frames ([type][sync sub-type][payload]); Parley
 *                 adds MESSAGE_CONTROL (ack / reject as varString JSON)
 *   hocuspocus:   the same sync payloads, each frame prefixed by the document
 *                 name; an Auth frame with the token first; SyncStatus frames
 *                 acknowledge each update in order
 *
 * "Accepted" means: Parley's `ack` (after the commit), Hocuspocus's
 * SyncStatus(true) (after applying in memory), and for the bare server the
 * echo of the sender's own update (it has nothing else).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket, type RawData } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { MESSAGE_CONTROL, MESSAGE_SYNC, parseControlFrame, type ControlFrame, type Message } from '@parley/protocol';
import type { ServerKind } from '../servers/launch.ts';

const HP_AUTH = 2;
const HP_SYNC_REPLY = 4;
const HP_SYNC_STATUS = 8;
const HP_AUTH_TOKEN = 0;
const HP_AUTH_DENIED = 1;

export interface DeviceHooks {
  /** A key appeared in this device's `messages` map (its own writes included). */
  onKey?: (device: Device, key: string) => void;
  /** The server accepted these of this device's messages. */
  onAccepted?: (device: Device, msgIds: readonly string[]) => void;
  onReject?: (device: Device, frame: Extract<ControlFrame, { type: 'reject' }>) => void;
  /** The socket closed after it had synced, not by `close()` (the server dropped it, e.g. `doc-moved`, or died). */
  onDropped?: (device: Device) => void;
}

export class Device {
  readonly doc = new Y.Doc();
  private readonly messages = this.doc.getMap<Message>('messages');
  private ws: WebSocket | null = null;
  synced = false;
  /** Ids of this device's writes in send order, for servers whose acks carry no ids (null: a sync reply). */
  private readonly unacked: (string | null)[] = [];
  private syncWaiters: (() => void)[] = [];
  closeWaiters: (() => void)[] = [];
  connected = false;
  /** The token of the last `connect`, to connect again with (a session outlives its socket). */
  token = '';
  private closing = false;
  /**
   * Whether this socket has answered the server's sync step 1: until then an
   * update is not sent on its own, since the step 2 answer carries it (sent
   * before, it would reach the server ahead of the writes made offline,
   * which the step 2 carries, and be refused as a clock gap).
   */
  private answered = false;

  constructor(
    readonly kind: ServerKind,
    readonly docName: string,
    readonly user: string,
    readonly index: number,
    private readonly hooks: DeviceHooks,
  ) {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this || !this.answered) return; // came from the server, or the step 2 answer will carry it
      this.sendSync(syncProtocol.messageYjsUpdate, update);
    });
    if (hooks.onKey !== undefined) {
      const onKey = hooks.onKey;
      this.messages.observe((event) => {
        for (const key of event.keysChanged) onKey(this, String(key));
      });
    }
  }

  /** Opens the socket; resolves once the document is synced (rejects on a refusal or a close first). */
  connect(wsBase: string, token: string): Promise<void> {
    this.synced = false;
    this.answered = false;
    this.closing = false;
    this.token = token;
    const url = this.kind === 'hocuspocus' ? `${wsBase}/hp` : `${wsBase}/${this.docName}?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push(resolve);
      ws.on('open', () => {
        this.connected = true;
        if (this.kind === 'hocuspocus') {
          const e = this.frame();
          encoding.writeVarUint(e, HP_AUTH);
          encoding.writeVarUint(e, HP_AUTH_TOKEN);
          encoding.writeVarString(e, token);
          ws.send(encoding.toUint8Array(e));
        }
        const e = this.frame();
        encoding.writeVarUint(e, MESSAGE_SYNC);
        syncProtocol.writeSyncStep1(e, this.doc);
        ws.send(encoding.toUint8Array(e));
      });
      ws.on('message', (data: RawData) => this.receive(data as Buffer, reject));
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        this.connected = false;
        if (this.ws === ws) this.ws = null;
        if (!this.synced) reject(new Error(`${this.docName}: closed before sync (${code})`));
        else if (!this.closing) this.hooks.onDropped?.(this);
        for (const w of this.closeWaiters.splice(0)) w();
      });
    });
  }

  /** Writes a message the way the app does: a new key in the root `messages` map. */
  write(message: Message): void {
    if (this.kind === 'hocuspocus' || this.kind === 'yws') this.unacked.push(message.id);
    this.messages.set(message.id, message);
  }

  has(id: string): boolean {
    return this.messages.has(id);
  }

  get open(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes the socket has queued and not yet written (back-pressure). */
  get buffered(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    ws.close();
    return closed;
  }

  destroy(): void {
    this.closing = true;
    this.ws?.terminate();
    this.doc.destroy();
  }

  /** A new frame: Hocuspocus frames start with the document name. */
  private frame(): encoding.Encoder {
    const e = encoding.createEncoder();
    if (this.kind === 'hocuspocus') encoding.writeVarString(e, this.docName);
    return e;
  }

  private sendSync(subType: number, payload: Uint8Array): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return; // offline: the next sync carries it
    const e = this.frame();
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, subType);
    encoding.writeVarUint8Array(e, payload);
    ws.send(encoding.toUint8Array(e));
  }

  private receive(data: Buffer, fail: (error: Error) => void): void {
    const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (this.kind === 'hocuspocus') decoding.readVarString(decoder);
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SYNC || (this.kind === 'hocuspocus' && type === HP_SYNC_REPLY)) {
      this.receiveSync(decoder);
    } else if (this.kind === 'parley' && type === MESSAGE_CONTROL) {
      const frame = parseControlFrame(decoding.readVarString(decoder));
      if (frame?.type === 'ack') this.hooks.onAccepted?.(this, frame.msgIds);
      else if (frame?.type === 'reject') this.hooks.onReject?.(this, frame);
      else if (frame?.type === 'refused') fail(new Error(`${this.docName}: refused (${frame.code})`));
    } else if (this.kind === 'hocuspocus' && type === HP_SYNC_STATUS) {
      const saved = decoding.readVarUint(decoder) === 1;
      const id = this.unacked.shift();
      if (saved && id !== undefined && id !== null) this.hooks.onAccepted?.(this, [id]);
    } else if (this.kind === 'hocuspocus' && type === HP_AUTH) {
      if (decoding.readVarUint(decoder) === HP_AUTH_DENIED) fail(new Error(`${this.docName}: permission denied`));
    }
    // Awareness (1) and anything else: ignored, as stock clients do with what they do not use.
  }

  private receiveSync(decoder: decoding.Decoder): void {
    const sub = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    if (sub === syncProtocol.messageYjsSyncStep1) {
      const diff = Y.encodeStateAsUpdate(this.doc, payload);
      if (this.kind === 'hocuspocus') this.unacked.push(null); // SyncStatus answers the step 2 too
      this.sendSync(syncProtocol.messageYjsSyncStep2, diff);
      this.answered = this.ws?.readyState === WebSocket.OPEN;
      return;
    }
    if (this.kind === 'yws' && this.unacked.length > 0 && Y.parseUpdateMeta(payload).to.has(this.doc.clientID)) {
      // The bare server's only acknowledgement: the echo of our own update.
      const id = this.unacked.shift();
      if (id !== undefined && id !== null) this.hooks.onAccepted?.(this, [id]);
    }
    Y.applyUpdate(this.doc, payload, this);
    if (sub === syncProtocol.messageYjsSyncStep2 && !this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }
}
