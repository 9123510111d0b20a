/**
 * The sync server as a library: `startParley(loadConfig(env))`. main.ts runs
 * it as a process; integration tests run it in-process on port 0.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mediaUrl } from '@parley/protocol';
import { AccountDeletion } from './auth/deletion.ts';
import { BeforeSend } from './compat/before-send.ts';
import { Accounts } from './auth/accounts.ts';
import { Sessions } from './auth/sessions.ts';
import { Tokens } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { RateLimits } from './http/rate-limits.ts';
import { People } from './social/people.ts';
import { Drain } from './http/drain.ts';
import { createHttpServer, type RegisteredRoute } from './http/server.ts';
import { createLog, type Log, type LogDestination } from './log.ts';
import { Media } from './media/media.ts';
import { mediaReferences } from './media/references.ts';
import { LinkGuard } from './links/guard.ts';
import { MediaFetcher } from './compat/media-fetch.ts';
import { LinkImages } from './links/images.ts';
import { LinkPreviews } from './links/previews.ts';
import type { Resolver } from './net/addresses.ts';
import { PushService } from './push/push.ts';
import { AfterSendQueue, afterSendWrites } from './compat/after-send.ts';
import { CallbackCaller } from './compat/callback-http.ts';
import { checkDatabase, DATABASE_FILE, lockDataDir, matchMarker, type DataDirLock } from './storage/data-dir.ts';
import { DiskWatch } from './storage/disk.ts';
import { StorageHealth } from './storage/health.ts';
import { PostgresStorage } from './storage/postgres.ts';
import { SqliteStorage } from './storage/sqlite.ts';
import type { Storage } from './storage/storage.ts';
import { SyncHub } from './sync/hub.ts';
import { joinCluster, type ClusterNode } from './cluster/cluster.ts';
import { SharedWriteRate } from './cluster/write-rate.ts';

export { loadConfig, type Config } from './config.ts';
export { ConfigError } from './config/values.ts';
export { DataDirError } from './storage/data-dir.ts';

export interface Parley {
  port: number;
  /** http://host:port */
  url: string;
  hub: SyncHub;
  push: PushService;
  tokens: Tokens;
  sessions: Sessions;
  /** Every HTTP route fastify registered (method, URL). */
  routes: RegisteredRoute[];
  log: Log;
  /** Stops accepting, closes sockets, flushes the group commit and the push decisions, closes storage. */
  close(): Promise<void>;
  /**
   * A graceful stop (main.ts, on SIGTERM/SIGINT): readiness says `draining`
   * at once, the process keeps serving for PARLEY_DRAIN_MS so that a proxy's
   * health check takes it out of rotation, then close(). Calling close()
   * meanwhile cuts the wait short.
   */
  stop(): Promise<void>;
}

/**
 * Takes the data dir (its lock, so no second server or restore works on it),
 * checks its database and marker, and opens it; refuses with a DataDirError
 * that says how to restore on damage.
 */
async function openDataDir(config: Config): Promise<{ storage: SqliteStorage; lock: DataDirLock }> {
  const lock = lockDataDir(config.dataDir, 'this server');
  let storage: SqliteStorage | null = null;
  try {
    const file = join(config.dataDir, DATABASE_FILE);
    checkDatabase(file, config.startupCheck, config.dataDir);
    storage = await SqliteStorage.open(file);
    matchMarker(config.dataDir, storage.dataDirId());
    return { storage, lock };
  } catch (error) {
    // Not awaited: a closing worker keeps no process alive, and main.ts exits on the refusal.
    storage?.close().catch(() => undefined);
    lock.release();
    throw error;
  }
}

/**
 * The storage the config names: PostgreSQL (migrated to this version's
 * schema) when PARLEY_DATABASE_URL is set; else the data dir's SQLite file,
 * with the data dir's lock, which keeps a second server off it. PostgreSQL
 * is shared by design: no lock, and no marker (the data dir then holds only
 * media and secrets).
 */
async function openStorage(config: Config, log: Log): Promise<{ storage: Storage; lock: DataDirLock | null }> {
  if (config.databaseUrl === null) return openDataDir(config);
  const storage = await PostgresStorage.open({
    url: config.databaseUrl,
    max: config.databasePool,
    onError: (err) => log.warn({ err, event: 'database-connection-lost' }, 'PostgreSQL: an idle connection failed; the pool opens a new one when needed'),
  });
  return { storage, lock: null };
}

export async function startParley(config: Config, options: { storage?: Storage; logTo?: LogDestination; resolver?: Resolver } = {}): Promise<Parley> {
  const log = createLog(config.logLevel, options.logTo);
  const { storage, lock } = options.storage === undefined ? await openStorage(config, log) : { storage: options.storage, lock: null };
  if (storage instanceof SqliteStorage) {
    for (const ids of storage.userIdClashes()) {
      log.warn({ event: 'user-id-clash', ids }, 'user ids that differ only in case: each signs in by its exact id; new ids in any of these cases are refused');
    }
  }
  const sessions = await Sessions.load(storage, config.sessionIdleDays * 24 * 3600_000, log);
  const tokens = new Tokens(config.jwtSecret, config.appSecret, config.accessTokenTtl, sessions);
  const accounts = new Accounts(storage, tokens, sessions, config.compat);
  const disk = await DiskWatch.start(config.dataDir, config.minFreeDiskBytes, log);
  // On SQLite the data dir's disk holds every message: its reserve gates them, and a full-disk fault ends only
  // once room is back there. On PostgreSQL it holds media only; the database's own disk is the database's.
  const localDatabase = config.databaseUrl === null;
  // Shared once the cluster's bus is up, before any socket can write.
  const sharedWriteRate = config.redisUrl === null || config.databaseUrl === null ? undefined : new SharedWriteRate(config.messageRate, config.messageBurst);
  const hub = new SyncHub(storage, config.unloadAfterMs, log, {
    storageFull: () => localDatabase && disk.full(),
    recallWindowMs: config.recallWindowMs,
    maxMarkedMessages: config.maxMarkedMessages,
    tsWindow: { maxSkewMs: config.maxClockSkewMs, maxAgeMs: config.maxMessageAgeMs },
    maxSocketsPerUser: config.maxSocketsPerUser,
    maxDocsPerUser: config.maxDocsPerUser,
    awareness: { maxBytes: config.maxAwarenessBytes, maxClients: config.maxAwarenessClients },
    updateBudget: { maxBytes: config.maxUpdateBytes, maxStructs: config.maxUpdateStructs },
    writeRate: { rate: config.messageRate, burst: config.messageBurst, ...(sharedWriteRate === undefined ? {} : { buckets: sharedWriteRate }) },
    maxFrameBytes: config.maxFrameBytes,
    commitWindowUs: config.commitWindowUs,
    health: new StorageHealth(
      storage,
      { retryMs: config.storageRetryMs, resumeFreeBytes: config.storageResumeFreeBytes, ...(localDatabase ? { freeBytes: () => disk.freeBytes() } : {}) },
      log,
    ),
  });
  /** This server's origin once it listens: the media of a message asked about go to the backend as absolute URLs. */
  let origin = '';
  const callbacks = config.callbacks;
  let beforeSend: BeforeSend | null = null;
  if (callbacks?.beforeSend === true) {
    const caller = new CallbackCaller(callbacks, config.compat?.sdkAppId ?? 0, options.resolver);
    const asker = new BeforeSend(callbacks, caller, (hash) => `${origin}${mediaUrl(hash)}`, log);
    beforeSend = asker;
    // Before the cluster joins: its replicas judge the updates forwarded to this process through the gate too.
    hub.askBeforeSend((message, seq) => asker.ask(message, seq), callbacks.timeoutMs);
  }
  // Before anything can open a document: every document loads under the cluster's placement.
  const cluster: ClusterNode | null =
    config.redisUrl === null || config.databaseUrl === null
      ? null
      : await joinCluster(
          { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, sweepMs: config.clusterSweepMs, heartbeatMs: config.clusterHeartbeatMs },
          hub,
          sessions,
          log,
        );
  if (cluster !== null) sharedWriteRate?.join(cluster.bus);
  const push = await PushService.start({
    config,
    storage,
    hub,
    log,
    ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    ...(cluster === null ? {} : { bus: cluster.bus }),
  });
  const uploadLimits = { quotaBytes: config.mediaQuotaBytes, maxPending: config.maxPendingUploads, maxPendingBytes: config.maxPendingUploadBytes, expiryMs: config.uploadExpiryMs };
  const media = await Media.open(config.dataDir, storage, log, { limits: uploadLimits, disk, shared: cluster !== null });
  hub.alsoWrite(mediaReferences);
  // The app backend's after-send callback: queued in each message's own commit from now on, sent from the queue.
  let afterSend: AfterSendQueue | null = null;
  if (callbacks?.afterSend === true) {
    hub.alsoWrite(afterSendWrites((hash) => mediaUrl(hash)));
    afterSend = new AfterSendQueue({
      storage,
      caller: new CallbackCaller(callbacks, config.compat?.sdkAppId ?? 0, options.resolver),
      log,
      timeoutMs: callbacks.timeoutMs,
      retryMs: callbacks.retryMs,
      maxAttempts: callbacks.maxAttempts,
      node: cluster?.bus.node ?? randomBytes(8).toString('hex'),
      lone: cluster === null,
    });
    hub.observe(afterSend);
    afterSend.start();
  }
  // A signed-out device gets no more pushes (unless it signed in again meanwhile).
  sessions.onRevoke((revoked) => {
    for (const { user, device } of revoked) {
      if (!sessions.signedIn(user, device)) push.unsubscribe(user, device).catch((err: unknown) => log.warn({ err }, 'push: a signed-out device kept its subscription'));
    }
  });
  const limits = new RateLimits(config, cluster?.bus);
  const linkImages = new LinkImages(config.dataDir);
  const links = { previews: new LinkPreviews(config, new LinkGuard(config.linkPreviewAllow, options.resolver), linkImages, limits, log), images: linkImages };
  const people = new People(storage, hub.relations, hub.settings, config);
  const compat =
    config.compat === null
      ? null
      : { config: config.compat, beforeSend, fetcher: new MediaFetcher(new LinkGuard(config.compat.mediaAllow, options.resolver), media, config.compat.mediaTimeoutMs) };
  const drain = new Drain();
  const deletion = new AccountDeletion(storage, hub, sessions, media, push, log);
  const { app, sockets, registered } = await createHttpServer({
    accounts,
    tokens,
    sessions,
    hub,
    push,
    media,
    links,
    log,
    staticDir: config.staticDir,
    storage,
    adminKey: config.adminKey,
    limits,
    people,
    sockets: config,
    disk,
    trustProxy: config.trustProxy,
    drain,
    deletion,
    compat,
  });
  await hub.settings.load();
  await app.listen({ port: config.port, host: config.host });
  // Deletions a stop or crash interrupted finish now (each step skips what is done).
  void deletion.resume();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  origin = `http://${host}:${port}`;
  let closing: Promise<void> | null = null;
  /** Ends a drain under way (stop) early: close() was called. */
  let endDrain = (): void => undefined;
  const close = (): Promise<void> => {
    drain.start();
    endDrain();
    return (closing ??= (async () => {
      await sockets.close();
      // Uploads in flight stop and record what they wrote, so the HTTP server need not wait for them.
      await media.close();
      await app.close();
      await push.close();
      await afterSend?.close();
      await hub.close();
      sharedWriteRate?.close();
      // After the hub let go of its documents (their leases), so the other processes take them over at once.
      await cluster?.close();
      log.info({ event: 'stopped', ...hub.commit.counts }, 'storage commits since start');
      disk.close();
      await storage.close();
      lock?.release();
    })());
  };
  return {
    port,
    url: origin,
    hub,
    push,
    tokens,
    sessions,
    routes: registered,
    log,
    close,
    stop: async () => {
      drain.start();
      log.info({ event: 'draining', drainMs: config.drainMs }, 'readiness says draining; closing after PARLEY_DRAIN_MS');
      if (closing === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.drainMs);
          endDrain = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await close();
    },
  };
}
