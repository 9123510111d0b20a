/**
 * One client's session with one document, speaking y-websocket:
 *
 *   server → `limits` (what one frame and one update may hold), step 1 (its
 *            state vector) and the current awareness
 *   client → step 2 / update  ⇒ validated and accepted (or rejected) by the hub
 *   client → step 1           ⇒ step 2 with what the client lacks, once committed
 *                                and once the transport took what came before
 *   client → awareness        ⇒ its own client ids' states, checked and relayed
 *                                with `user` set to the authenticated user
 *   client → query awareness  ⇒ every current awareness state it may see
 *                                (sync/awareness.ts)
 *
 * It knows bytes, not sockets: the transport calls `receive` and gives an
 * `Outlet` (bytes out, and whether they have left).
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import { MESSAGE_AWARENESS, MESSAGE_QUERY_AWARENESS, MESSAGE_SYNC, type ControlFrame, type ErrorCode } from '@parley/protocol';
import type { Log } from '../log.ts';
import { awarenessMessage, controlMessage, syncStep1Message, syncStep2Message } from './frames.ts';
import type { LiveDoc, Peer } from './live-doc.ts';

/** An awareness update of no states (its count, 0). */
const EMPTY_AWARENESS_UPDATE = new Uint8Array([0]);

/** The transport as a connection sees it. */
export interface Outlet {
  send(bytes: Uint8Array): void;
  /**
   * Settles once the bytes sent so far have left this process (or the
   * transport closed): a large answer is computed only then, so a client that
   * does not read makes the server build and hold nothing for it.
   */
  drained(): Promise<void>;
}

/**
 * Who wrote an update, as the accept path sees them: a connection here, or,
 * in a cluster, one on another process whose writes this one leads
 * (cluster/replicas.ts).
 */
export interface Writer {
  readonly user: string;
  /**
   * Names a connection on another process (cluster/replicas.ts makes a Writer
   * per forwarded update): the updates of one origin are judged in order
   * (sync/send-gate.ts). Unset for a connection here, which is its own.
   */
  readonly origin?: string;
  sendControl(frame: ControlFrame): void;
}

export interface UpdateSink {
  /** Judges and, if accepted, applies a client's update; answers through `connection`. */
  submit(live: LiveDoc, connection: Writer, update: Uint8Array): void;
}

export class Connection implements Peer {
  private closed = false;
  /** Its document was dropped after a failure (`drop`): no more of it is sent; the socket closes at the end of this turn. */
  private dropped = false;
  /** Frames this connection could not read; the transport closes the socket after a few (PARLEY_MAX_MALFORMED_FRAMES). */
  malformed = 0;
  /** A refused presence state is logged once per connection, not once per frame. */
  private presenceRefusalLogged = false;
  /**
   * The state vector of the newest sync step 1 not answered yet (null: none
   * waits). A later request replaces it: the client's state only grows, so
   * one answer to the newest covers every earlier one, and a flood of
   * requests costs a few bytes, not a copy of the document each.
   */
  private asked: Uint8Array | null = null;
  private answering = false;

  constructor(
    readonly live: LiveDoc,
    readonly user: string,
    readonly device: string,
    private readonly out: Outlet,
    private readonly sink: UpdateSink,
    private readonly log: Log,
    /** Tells the client `code` (a `refused` frame) and closes the socket, so it reconnects and syncs again. */
    private readonly closeWith: (code: ErrorCode) => void = () => undefined,
  ) {}

  /** Attaches to the document: the client hears the server's `limits` first, so that its answer to step 1 already fits them. */
  start(limits: Extract<ControlFrame, { type: 'limits' }>): void {
    this.live.connections.add(this);
    this.sendControl(limits);
    this.send(syncStep1Message(Y.encodeStateVector(this.live.doc)));
    const states = this.live.presence.initialFor(this);
    if (states !== null) this.send(awarenessMessage(states));
  }

  send(bytes: Uint8Array): void {
    if (!this.closed && !this.dropped) this.out.send(bytes);
  }

  /** Control frames still go out after a drop: the refusals of the writes that failed with it, in the same turn. */
  sendControl(frame: ControlFrame): void {
    if (!this.closed) this.out.send(controlMessage(frame));
  }

  /**
   * The document left memory after a failure: nothing more of it is sent
   * (sync frames, presence); the writers' refusals, due in this turn, still
   * go; then the client is told `code` and the socket closes.
   */
  drop(code: ErrorCode): void {
    if (this.closed || this.dropped) return;
    this.dropped = true;
    setImmediate(() => {
      if (!this.closed) this.closeWith(code);
    });
  }

  receive(bytes: Uint8Array): void {
    // A dropped document takes nothing more from this socket (it closes at the end of the turn).
    if (this.closed || this.dropped) return;
    try {
      const decoder = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(decoder);
      switch (type) {
        case MESSAGE_SYNC:
          this.receiveSync(decoder);
          break;
        case MESSAGE_AWARENESS:
          this.receiveAwareness(decoding.readVarUint8Array(decoder));
          break;
        case MESSAGE_QUERY_AWARENESS: {
          // An empty update when there is nothing it may see, as when there is nothing at all.
          this.send(awarenessMessage(this.live.presence.updateFor(this) ?? EMPTY_AWARENESS_UPDATE));
          break;
        }
        default:
          // Nothing else is sent by a y-websocket client (control frames go the other way): ignored, and counted.
          this.countMalformed(`unknown message type ${type}`);
          break;
      }
    } catch (error) {
      this.countMalformed(error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * One log line per connection, without a stack: a client that sends garbage
   * must not make the server write a stack trace per frame.
   */
  private countMalformed(reason: string): void {
    this.malformed++;
    if (this.malformed === 1) this.log.warn({ doc: this.live.path, user: this.user, device: this.device, reason }, 'malformed frame (more from this socket are counted, not logged)');
  }

  private receiveSync(decoder: decoding.Decoder): void {
    const sub = decoding.readVarUint(decoder);
    if (sub === syncProtocol.messageYjsSyncStep1) {
      const stateVector = decoding.readVarUint8Array(decoder);
      // Read now, so that an unreadable one counts as a malformed frame.
      Y.decodeStateVector(stateVector);
      this.asked = stateVector;
      if (!this.answering) void this.answer();
    } else if (sub === syncProtocol.messageYjsSyncStep2 || sub === syncProtocol.messageYjsUpdate) {
      this.sink.submit(this.live, this, decoding.readVarUint8Array(decoder));
    }
  }

  /**
   * Answers sync step 1 with step 2: what the client lacks, computed when it
   * is about to be sent and from durable state only. It waits until the
   * document has nothing pending (every write applied in memory is committed,
   * so no client is served a write whose commit may still fail), and until
   * the transport took what was sent before; writes that arrived meanwhile
   * are waited for in turn. Then the diff is encoded and sent in one step,
   * and held nowhere. At most one answer per connection is under way.
   */
  private async answer(): Promise<void> {
    this.answering = true;
    try {
      while (this.asked !== null) {
        while (this.live.pending > 0 && !this.gone()) await this.live.committed();
        await this.out.drained();
        if (this.gone()) return;
        if (this.live.pending > 0) continue;
        const stateVector = this.asked;
        this.asked = null;
        this.send(syncStep2Message(Y.encodeStateAsUpdate(this.live.doc, stateVector)));
      }
    } catch (error) {
      this.asked = null;
      this.countMalformed(error instanceof Error ? error.message : String(error));
    } finally {
      this.answering = false;
    }
  }

  /** Closed, or its document unloaded: nothing more is sent. */
  private gone(): boolean {
    return this.closed || this.live.destroyed;
  }

  private receiveAwareness(update: Uint8Array): void {
    const refused = this.live.presence.receive(this, update);
    if (refused.length > 0 && !this.presenceRefusalLogged) {
      this.presenceRefusalLogged = true;
      this.log.info({ doc: this.live.path, user: this.user, device: this.device, reasons: refused }, 'presence state refused');
    }
  }

  /** Detaches from the document; the others learn that this connection's presence is gone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.live.connections.delete(this);
    this.live.presence.release(this, this.live.destroyed);
  }
}
