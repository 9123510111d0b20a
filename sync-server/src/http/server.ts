/** The HTTP server: API, static PWA and the sync sockets on one port. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AccountDeletion } from '../auth/deletion.ts';
import type { Accounts } from '../auth/accounts.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { Log } from '../log.ts';
import type { LinkImages } from '../links/images.ts';
import type { LinkPreviews } from '../links/previews.ts';
import type { Media } from '../media/media.ts';
import type { PushService } from '../push/push.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { registerApi, type ApiDeps } from './api.ts';
import { acceptV4Bodies } from './compat-bodies.ts';
import type { RateLimits } from './rate-limits.ts';
import type { People } from '../social/people.ts';
import type { Drain } from './drain.ts';
import { installErrorFunnel } from './errors.ts';
import { installSecurityHeaders } from './headers.ts';
import type { RouteBook } from './routes.ts';
import { attachSockets, type SocketOptions, type Sockets } from './sockets.ts';
import { registerNotFound, registerStatic } from './static.ts';

export interface HttpDeps {
  accounts: Accounts;
  tokens: Tokens;
  sessions: Sessions;
  hub: SyncHub;
  log: Log;
  staticDir: string | null;
  storage: Storage;
  adminKey: string;
  push: PushService;
  media: Media;
  /** Link previews and their images (links/). */
  links: { previews: LinkPreviews; images: LinkImages };
  /** Liveness, handshake and malformed-frame limits of the sync sockets (the handshake timeout bounds HTTP request headers too). */
  sockets: SocketOptions;
  /** The free-disk reserve (admin sends and imports check it). */
  disk: DiskWatch;
  limits: RateLimits;
  /** People search and invite links. */
  people: People;
  /** Reverse proxies in front (0: none); request.ip is the client address they forward. */
  trustProxy: number;
  /** Set when the process is asked to stop (readiness says `draining`). */
  drain: Drain;
  /** Account deletion (DELETE /me). */
  deletion: AccountDeletion;
  /** The hosted service's REST API under /v4/, when configured. */
  compat: ApiDeps['compat'];
}

/** A route as fastify registered it (the OpenAPI test compares these with the document). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/** Trusts the first `hops` addresses, nearest first (the socket's, then each proxy's): request.ip is the one beyond them. */
const trustHops =
  (hops: number) =>
  (_address: string, hop: number): boolean =>
    hop < hops;

export async function createHttpServer(deps: HttpDeps): Promise<{ app: FastifyInstance; sockets: Sockets; routes: RouteBook; registered: RegisteredRoute[] }> {
  const handshake = deps.sockets.handshakeTimeoutMs;
  const app = Fastify({
    logger: false,
    trustProxy: trustHops(deps.trustProxy),
    bodyLimit: 1024 * 1024,
    // A connection must send its request headers (an upgrade's too) within the handshake timeout: one that
    // sends nothing or stops half-way is answered 408 and closed. Node checks this every
    // connectionsCheckingInterval (30 s by default, too coarse for a 10 s limit). Bodies and responses are
    // not limited (fastify's requestTimeout stays 0): uploads and media downloads may take long.
    http: { headersTimeout: handshake, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(handshake / 4))) },
  });
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push({ method, url: route.url });
  });
  installErrorFunnel(app, deps.log);
  installSecurityHeaders(app);
  if (deps.compat !== null) acceptV4Bodies(app);
  const routes = registerApi(app, deps);
  if (deps.staticDir !== null) await registerStatic(app, deps.staticDir);
  registerNotFound(app, deps.staticDir !== null);
  const sockets = attachSockets(app.server, deps.hub, deps.tokens, deps.sessions, deps.log, deps.sockets, deps.limits);
  return { app, sockets, routes, registered };
}
