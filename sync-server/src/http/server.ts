/** The HTTP server: API, static PWA and the sync sockets on one port. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Accounts } from '../auth/accounts.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { Log } from '../log.ts';
import type { SyncHub } from '../sync/hub.ts';
import { registerApi } from './api.ts';
import { installErrorFunnel } from './errors.ts';
import { attachSockets, type Sockets } from './sockets.ts';
import { registerNotFound, registerStatic } from './static.ts';

export interface HttpDeps {
  accounts: Accounts;
  tokens: Tokens;
  hub: SyncHub;
  log: Log;
  staticDir: string | null;
}

export async function createHttpServer(deps: HttpDeps): Promise<{ app: FastifyInstance; sockets: Sockets }> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  installErrorFunnel(app, deps.log);
  registerApi(app, deps);
  if (deps.staticDir !== null) await registerStatic(app, deps.staticDir);
  registerNotFound(app, deps.staticDir !== null);
  const sockets = attachSockets(app.server, deps.hub, deps.tokens, deps.log);
  return { app, sockets };
}
