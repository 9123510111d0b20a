/**
 * The WebSocket transport of `/sync/<document path>?token=<access token>`,
 * sharing the HTTP port. It adapts sockets to the sync core and nothing more:
 *
 *   upgrade → verify the token (no sync frame before that)
 *   → hub.open(path, user): a connection, or a refusal
 *   → refusal: one `refused` control frame, then close 4401/4403/4404/4429
 *   → frames in: connection.receive(bytes); bytes out: one write per socket
 *     per tick, each frame encoded once for all its receivers (socket-writer.ts)
 *   → its session revoked (sign-out): `refused` session-revoked, close 4401
 *   → its document dropped after a failure (a commit that failed, an update
 *     that could not be applied): `refused` with the code, close 4503, and
 *     the client reconnects and syncs again
 *   → the process stops (SIGTERM, after PARLEY_DRAIN_MS): close 1012, and the
 *     client reconnects at once, to another process behind a proxy
 *
 * Liveness: every socket is pinged each `pingIntervalMs`; one that has not
 * answered the previous ping is terminated, and its close detaches it from
 * the hub like any other (presence, typing and "online" go at once). A socket
 * not open on its document within `handshakeTimeoutMs` of its upgrade is
 * terminated; one that sends `maxMalformedFrames` unreadable frames is
 * closed with 1002. (The HTTP server bounds the upgrade request itself: see
 * http/server.ts.)
 *
 * Memory: a socket with more than `maxSocketBufferBytes` unsent is
 * closed at its next frame (4509 `socket-too-slow`, then cut after a short grace), so a client
 * that stops reading holds at most that much (plus one frame) of the server's memory however
 * much is broadcast to it; its client reconnects and syncs what it missed.
 * The sync core asks `drained()` before it builds a large answer (sync step
 * 2), so it builds nothing for a socket that has not taken the last one.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES, CLOSE_MALFORMED, CLOSE_SERVICE_RESTART, errorMessage, SYNC_PATH_PREFIX, type ErrorCode } from '@parley/protocol';
import type { Sessions } from '../auth/sessions.ts';
import type { Tokens } from '../auth/tokens.ts';
import { closeCodeOf } from '../errors.ts';
import type { Log } from '../log.ts';
import { controlMessage } from '../sync/frames.ts';
import type { SyncHub } from '../sync/hub.ts';
import { retryAfterSeconds, type RateLimits } from './rate-limits.ts';
import { SocketWriter } from './socket-writer.ts';

const toBytes = (data: RawData): Uint8Array =>
  Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export interface SocketOptions {
  /** PARLEY_PING_INTERVAL_MS */
  pingIntervalMs: number;
  /** PARLEY_HANDSHAKE_TIMEOUT_MS: from upgrade to open on the document. */
  handshakeTimeoutMs: number;
  /** PARLEY_MAX_MALFORMED_FRAMES */
  maxMalformedFrames: number;
  /** PARLEY_MAX_FRAME_BYTES: a larger frame closes the socket with 1009 before it is read. */
  maxFrameBytes: number;
  /** PARLEY_MAX_SOCKET_BUFFER_BYTES: unsent bytes one socket may hold before it is closed as too slow. */
  maxSocketBufferBytes: number;
}

/**
 * How long a socket closed as too slow has to take the close frame (queued
 * behind everything it did not read) before the connection is cut and its
 * buffers freed: a client that is merely slow learns why; one that reads
 * nothing costs no more than this long. At shutdown, how long the clients
 * have to answer the close frame.
 */
const SLOW_CLOSE_GRACE_MS = 1000;

export interface Sockets {
  /** Closes every socket (1012 service restart: its client reconnects at once, through a proxy to another process) and stops accepting new ones. */
  close(): Promise<void>;
}

export function attachSockets(server: Server, hub: SyncHub, tokens: Tokens, sessions: Sessions, log: Log, options: SocketOptions, limits: RateLimits): Sockets {
  // No compression: frames are written beside ws (socket-writer.ts), which is sound only while ws queues nothing itself.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
  /** Each socket's frames out: one write per tick. */
  const writers = new WeakMap<WebSocket, SocketWriter>();
  const heartbeat = watchLiveness(wss, options.pingIntervalMs);
  /** The open sockets of each session, closed at once when it is revoked. */
  const bySession = new Map<string, Set<WebSocket>>();
  sessions.onRevoke((revoked) => {
    for (const { id } of revoked) {
      for (const ws of bySession.get(id) ?? []) if (ws.readyState === ws.OPEN) refuse(ws, 'session-revoked');
      bySession.delete(id);
    }
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(SYNC_PATH_PREFIX)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      let path: string;
      try {
        path = decodeURIComponent(url.pathname.slice(SYNC_PATH_PREFIX.length));
      } catch {
        path = '';
      }
      heartbeat.watch(ws);
      serve(ws, socket, path, url.searchParams.get('token'));
    });
  });

  function refuse(ws: WebSocket, code: ErrorCode, retryAfter?: number): void {
    writers.get(ws)?.send(controlMessage({ type: 'refused', code, message: errorMessage(code), ...(retryAfter === undefined ? {} : { retryAfter }) }));
    closeAfterQueued(ws, closeCodeOf(code), code);
  }

  /** Closes `ws` after the frames queued for it in this tick, so its close frame comes last. */
  function closeAfterQueued(ws: WebSocket, code: number, reason: string): void {
    writers.get(ws)?.flush();
    ws.close(code, reason);
  }

  /** Upgrades per user (after the token is verified): true when this one was refused with `rate-limited`. */
  async function refusedAsTooFrequent(ws: WebSocket, user: string): Promise<boolean> {
    const waitMs = await limits.socketUpgrade(user);
    if (waitMs === 0) return false;
    refuse(ws, 'rate-limited', retryAfterSeconds(waitMs));
    return true;
  }

  /**
   * Whether the socket is past the cap: more bytes already wait unsent than
   * the cap allows. What is about to be sent is not counted, so one frame
   * larger than the cap (the step 2 of a large document) still goes even when
   * a few small frames wait ahead of it: the cap is for a socket that does not
   * take what it is sent, and bounds it at the cap plus one frame.
   */
  function tooFarBehind(ws: WebSocket, writer: SocketWriter): boolean {
    return ws.bufferedAmount + writer.queued > options.maxSocketBufferBytes;
  }

  function closeAsTooSlow(ws: WebSocket, who: { doc: string; user: string; device: string }): void {
    log.warn(
      { event: 'socket-too-slow', ...who, bufferedBytes: ws.bufferedAmount, maxSocketBufferBytes: options.maxSocketBufferBytes },
      'sync socket closed: it did not take what the server sent (PARLEY_MAX_SOCKET_BUFFER_BYTES); its client reconnects and syncs again',
    );
    closeAfterQueued(ws, CLOSE_CODES.tooSlow, 'socket-too-slow');
    const cut = setTimeout(() => ws.terminate(), SLOW_CLOSE_GRACE_MS);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  }

  function serve(ws: WebSocket, socket: Duplex, path: string, token: string | null): void {
    const writer = new SocketWriter(socket, () => ws.readyState === ws.OPEN);
    writers.set(ws, writer);
    // Frames that arrive while the token is checked and the document loads wait here.
    const early: Uint8Array[] = [];
    let receive: ((bytes: Uint8Array) => void) | null = null;
    let onClose: (() => void) | null = null;
    let closed = false;
    // Authenticated and open on its document in time, or dropped.
    const handshake = setTimeout(() => ws.terminate(), options.handshakeTimeoutMs);
    ws.on('message', (data: RawData) => {
      // Once the server is closing the socket (a refusal, a sign-out), nothing more it sends counts.
      if (ws.readyState !== ws.OPEN) return;
      if (receive === null) early.push(toBytes(data));
      else receive(toBytes(data));
    });
    ws.on('close', () => {
      closed = true;
      clearTimeout(handshake);
      onClose?.();
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // A frame over the limit (ws closes with 1009): the operator should see a client that keeps sending one.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') log.warn({ doc: path, maxFrameBytes: options.maxFrameBytes }, 'sync frame over PARLEY_MAX_FRAME_BYTES: socket closed (1009)');
      else log.debug({ err: error }, 'socket error');
    });

    void (async () => {
      const auth = await tokens.verifyAccess(token);
      if (!auth.ok) return refuse(ws, auth.code);
      if (await refusedAsTooFrequent(ws, auth.user)) return;
      if (closed) return;
      // Registered before the document loads, so a sign-out meanwhile closes it too.
      let open = bySession.get(auth.session);
      if (open === undefined) bySession.set(auth.session, (open = new Set()));
      open.add(ws);
      ws.once('close', () => {
        open.delete(ws);
        if (open.size === 0 && bySession.get(auth.session) === open) bySession.delete(auth.session);
      });
      const send = (bytes: Uint8Array): void => {
        if (ws.readyState !== ws.OPEN) return;
        if (tooFarBehind(ws, writer)) return closeAsTooSlow(ws, { doc: path, user: auth.user, device: auth.device });
        writer.send(bytes);
      };
      const isDrained = (): Promise<void> => {
        writer.flush();
        return drained(socket);
      };
      const opened = await hub.open(path, auth.user, auth.device, { send, drained: isDrained }, (code) => {
        if (ws.readyState === ws.OPEN) refuse(ws, code);
      });
      if (!opened.ok) {
        if (ws.readyState === ws.OPEN) refuse(ws, opened.code);
        return;
      }
      const { connection } = opened;
      if (closed) return hub.detach(connection);
      clearTimeout(handshake);
      onClose = () => hub.detach(connection);
      receive = (bytes) => {
        if (connection.malformed >= options.maxMalformedFrames) return;
        connection.receive(bytes);
        if (connection.malformed >= options.maxMalformedFrames) {
          log.debug({ doc: path, user: auth.user, malformed: connection.malformed }, 'socket closed: too many malformed frames');
          closeAfterQueued(ws, CLOSE_MALFORMED, 'malformed frames');
        }
      };
      if (ws.readyState !== ws.OPEN) return;
      for (const bytes of early.splice(0)) receive(bytes);
    })().catch((error: unknown) => {
      log.error({ err: error, path }, 'sync connection failed');
      if (ws.readyState === ws.OPEN) closeAfterQueued(ws, 1011, 'internal');
    });
  }

  return {
    close: async () => {
      heartbeat.stop();
      const open = [...wss.clients];
      const closed = Promise.all(open.map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve())))));
      for (const ws of open) closeAfterQueued(ws, CLOSE_SERVICE_RESTART, 'server restarting');
      // Waits for each client to answer the close frame (the closing handshake): a process that exited
      // before would leave the client's answer unread, and its kernel would then reset the connection,
      // which can drop the close frame before the client reads it (the client sees 1006, not 1012).
      // A client that does not answer within the grace is cut.
      const cut = setTimeout(() => {
        for (const ws of open) ws.terminate();
      }, SLOW_CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Settles once `socket` has written out what it was given (at once when it holds less than its high-water mark), or closed. */
function drained(socket: Duplex): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * Pings every socket each `intervalMs`; a socket that has not answered the
 * previous ping with a pong is terminated (its `close` follows at once). A
 * socket starts out as having answered, so it gets one full interval.
 */
function watchLiveness(wss: WebSocketServer, intervalMs: number): { watch(ws: WebSocket): void; stop(): void } {
  const answered = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!answered.has(ws)) {
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(ws) {
      answered.add(ws);
      ws.on('pong', () => answered.add(ws));
    },
    stop: () => clearInterval(timer),
  };
}
