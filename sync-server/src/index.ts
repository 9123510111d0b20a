/**
 * The sync server as a library: `startParley(loadConfig(env))`. main.ts runs
 * it as a process; integration tests run it in-process on port 0.
 */
import { join } from 'node:path';
import { Accounts } from './auth/accounts.ts';
import { Tokens } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { createHttpServer, type RegisteredRoute } from './http/server.ts';
import { createLog, type Log } from './log.ts';
import { Media } from './media/media.ts';
import { mediaReferences } from './media/references.ts';
import { PushService } from './push/push.ts';
import { SqliteStorage } from './storage/sqlite.ts';
import type { Storage } from './storage/storage.ts';
import { SyncHub } from './sync/hub.ts';

export { loadConfig, ConfigError, type Config } from './config.ts';

export interface Parley {
  port: number;
  /** http://host:port */
  url: string;
  hub: SyncHub;
  push: PushService;
  tokens: Tokens;
  /** Every HTTP route fastify registered (method, URL). */
  routes: RegisteredRoute[];
  log: Log;
  /** Stops accepting, closes sockets, flushes the group commit and the push decisions, closes storage. */
  close(): Promise<void>;
}

export async function startParley(config: Config, options: { storage?: Storage } = {}): Promise<Parley> {
  const log = createLog(config.logLevel);
  const storage = options.storage ?? (await SqliteStorage.open(join(config.dataDir, 'parley.db')));
  const tokens = new Tokens(config.jwtSecret, config.appSecret, config.accessTokenTtl);
  const accounts = new Accounts(storage, tokens);
  const hub = new SyncHub(storage, config.unloadAfterMs, log, {
    recallWindowMs: config.recallWindowMs,
    updateBudget: { maxBytes: config.maxUpdateBytes, maxStructs: config.maxUpdateStructs },
    writeRate: { rate: config.messageRate, burst: config.messageBurst },
  });
  const push = await PushService.start({ config, storage, hub, log });
  const media = await Media.open(config.dataDir, storage, log);
  hub.alsoWrite(mediaReferences);
  const { app, sockets, registered } = await createHttpServer({ accounts, tokens, hub, push, media, log, staticDir: config.staticDir, storage, adminKey: config.adminKey });
  await hub.settings.load();
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://${host}:${port}`,
    hub,
    push,
    tokens,
    routes: registered,
    log,
    close: () =>
      (closing ??= (async () => {
        await sockets.close();
        // Uploads in flight stop and record what they wrote, so the HTTP server need not wait for them.
        await media.close();
        await app.close();
        await push.close();
        await hub.close();
        await storage.close();
      })()),
  };
}
