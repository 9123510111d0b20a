/** The HTTP server: API, static PWA and the sync sockets on one port. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Accounts } from '../auth/accounts.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { Log } from '../log.ts';
import type { Media } from '../media/media.ts';
import type { PushService } from '../push/push.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { registerApi } from './api.ts';
import { installErrorFunnel } from './errors.ts';
import type { RouteBook } from './routes.ts';
import { attachSockets, type Sockets } from './sockets.ts';
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
}

/** A route as fastify registered it (the OpenAPI test compares these with the document). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

export async function createHttpServer(deps: HttpDeps): Promise<{ app: FastifyInstance; sockets: Sockets; routes: RouteBook; registered: RegisteredRoute[] }> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push({ method, url: route.url });
  });
  installErrorFunnel(app, deps.log);
  const routes = registerApi(app, deps);
  if (deps.staticDir !== null) await registerStatic(app, deps.staticDir);
  registerNotFound(app, deps.staticDir !== null);
  const sockets = attachSockets(app.server, deps.hub, deps.tokens, deps.sessions, deps.log);
  return { app, sockets, routes, registered };
}
