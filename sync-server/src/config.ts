/**
 * The server's configuration, parsed once from the environment at start into a
 * typed object. A bad value stops the start with a message naming the variable.
 *
 * Over 300 lines on purpose: this is the one table of settings, each with its
 * default and why, and loadConfig beside it reads each in one line. How one
 * value is read is in config/values.ts, the generated secrets in
 * config/secrets.ts, the push allow-list's syntax in config/push-allow.ts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SYNC_LIMITS, LIMITS } from '@parley/protocol';
import type { PushAllowList } from './config/push-allow.ts';
import { fileSecret } from './config/secrets.ts';
import { ConfigError, databaseUrl, frameAndUpdate, GiB, integer, MiB, onOff, origins, pushAllow, startupCheck, vapidSubject } from './config/values.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';
import { checkDatabasePresent, type StartupCheck } from './storage/data-dir.ts';
import { makeDirectoryDurably } from './storage/durable-files.ts';

export interface CompatConfig {
  sdkAppId: number;
  secretKey: string;
  admins: string[];
  mediaAllow: string[];
  mediaTimeoutMs: number;
}

export interface CallbackConfig {
  url: string;
  allow: string[];
  token: string | null;
  beforeSend: boolean;
  afterSend: boolean;
  timeoutMs: number;
  failClosed: boolean;
  retryMs: number;
  maxAttempts: number;
}

export interface Config {
  /** PARLEY_PORT, default 8080; 0 picks a free port (tests). */
  port: number;
  /** PARLEY_HOST, default 0.0.0.0 so that phones on the LAN reach a dev server. */
  host: string;
  /** PARLEY_DATA_DIR, default ./data: the SQLite file (unless PARLEY_DATABASE_URL is set), media and the generated secrets. */
  dataDir: string;
  /**
   * PARLEY_DATABASE_URL, default unset: the PostgreSQL database
   * (postgres://user:password@host:port/database) that holds the durable
   * state instead of the SQLite file in the data dir, so that several
   * processes can share it. Unset, one process on SQLite: nothing else to
   * install or run. Its schema is migrated at start (storage/postgres/).
   */
  databaseUrl: string | null;
  /**
   * PARLEY_DATABASE_POOL, default 10: PostgreSQL connections this process
   * opens at most. A group commit holds one while it commits and reads take
   * one each for a few rows by key, so a handful carries a busy process; the
   * sum over every process must stay under the server's max_connections
   * (100 by default).
   */
  databasePool: number;
  /** PARLEY_APP_SECRET: signs app tokens; default generated once into <data>/app-secret. */
  appSecret: string;
  /** PARLEY_ADMIN_KEY: authenticates the admin API (`Authorization: Bearer` or `X-Admin-Key`); default generated once into <data>/admin-key. */
  adminKey: string;
  /** Signs access tokens; generated once into <data>/jwt-secret so that restarts keep sessions. */
  jwtSecret: string;
  /** PARLEY_STATIC_DIR: the built PWA; default <repo>/dist when it exists, else none (API only). */
  staticDir: string | null;
  /** PARLEY_UNLOAD_AFTER_MS, default 30000: a document with no connection stays this long in memory, so a quick reconnect skips a reload. */
  unloadAfterMs: number;
  /** PARLEY_ACCESS_TOKEN_TTL, seconds, default 3600: short, so a stolen token is soon useless. */
  accessTokenTtl: number;
  /**
   * PARLEY_SESSION_IDLE_DAYS, default 90: a session (a device's sign-in) not
   * used for this long ends; its refresh token is refused and the device
   * signs in again. Long enough for a phone left in a drawer over a holiday,
   * short enough that a forgotten device's token does not live for ever.
   */
  sessionIdleDays: number;
  /** PARLEY_LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /**
   * PARLEY_VAPID_SUBJECT, default mailto:admin@parley.invalid: the contact a
   * push service may write to about this server's pushes (the VAPID `sub`).
   * A mailto: or https: URL, never localhost: Apple's push service refuses a
   * token whose subject is localhost. The keys are generated once into
   * <data>/vapid.json (see push/vapid.ts).
   */
  vapidSubject: string;
  /** PARLEY_RECALL_WINDOW_MS, default 120000 (2 minutes): how long after sending a sender may recall a message. */
  recallWindowMs: number;
  /**
   * PARLEY_MAX_MARKED_MESSAGES, default 5000 (LIMITS.hiddenMessages): how many
   * messages one user may hide ("delete for me") and, apart, star, in their
   * prefs document, which every device of theirs loads whole (`prefs-full` beyond).
   */
  maxMarkedMessages: number;
  /**
   * PARLEY_MAX_CLOCK_SKEW_MS, default 300000 (5 minutes): how far ahead of the
   * server's clock a message's `ts` (and an edit's, reaction's, action's or
   * recall's) may be. Device clocks drift by seconds, not minutes; a time far
   * in the future would sort first forever and outlive the recall window.
   */
  maxClockSkewMs: number;
  /**
   * PARLEY_MAX_MESSAGE_AGE_MS, default 2592000000 (30 days): how old a
   * client's message `ts` may be when it reaches the server: a device that was
   * offline a month still delivers what it wrote; an older time is a forged
   * one (history goes in through the admin import, which is exempt).
   */
  maxMessageAgeMs: number;
  /** PARLEY_LINK_PREVIEWS, default on: whether the server fetches link previews at all (off: the app sends links without a card). */
  linkPreviews: boolean;
  /** PARLEY_LINK_PREVIEW_ALLOW, default none: origins fetched whatever they resolve to (an intranet site, a test's server); everything else must be public. */
  linkPreviewAllow: string[];
  /** PARLEY_LINK_PREVIEW_TIMEOUT_MS, default 5000: the longest a preview's fetches (page, redirects, image) take together. */
  linkPreviewTimeoutMs: number;
  /** PARLEY_LINK_PREVIEW_PAGE_BYTES, default 524288: how much of a page is read for its title and description (the rest is never downloaded). */
  linkPreviewPageBytes: number;
  /** PARLEY_LINK_PREVIEW_IMAGE_BYTES, default 2097152: the largest preview image kept (a larger one: the card goes without it). */
  linkPreviewImageBytes: number;
  /** PARLEY_LINK_PREVIEWS_PER_MINUTE, default 30: previews one user may ask for a minute (cached ones count too). */
  linkPreviewsPerMinute: number;
  /** PARLEY_LINK_PREVIEW_CACHE, default 1000: previews kept in memory (least recently asked dropped first), for a day each (a failure for ten minutes). */
  linkPreviewCache: number;
  /** PARLEY_PUSH_RETRY_MS, default 1000: the first wait before retrying a push the push service put off (429/5xx); it doubles per attempt. */
  pushRetryMs: number;
  /**
   * PARLEY_PUSH_CLAIM_MS, default 30000: how long a process's claim on the
   * pushes it sends lasts; it renews them every third of that. A process
   * that dies leaves its pushes to the others once its claims run out, so
   * this is how late a dead process's pushes arrive at worst; shorter costs
   * more storage writes (one renewal per process per third). A process alone
   * takes every push at start, whatever its claim.
   */
  pushClaimMs: number;
  /**
   * PARLEY_PUSH_CACHE_USERS, default 10000: users whose push subscriptions
   * (none, for most) the server keeps in memory, the least recently messaged
   * dropped first, so that deciding a message's push reads no storage. An
   * entry is about 100 bytes for a user with no subscription and under 1 KB
   * per subscribed device, so the default costs a few MB and covers the
   * recipients active at once on a server of this size; a miss costs one
   * read.
   */
  pushCacheUsers: number;
  /**
   * PARLEY_PING_INTERVAL_MS, default 30000: every sync socket is pinged this
   * often, and one that has not answered the previous ping with a pong is
   * terminated, so that a device whose network died goes offline (presence,
   * typing, push) within one to two intervals, not after TCP gives up (hours).
   */
  pingIntervalMs: number;
  /**
   * PARLEY_HANDSHAKE_TIMEOUT_MS, default 10000: a connection must send its
   * request headers (or WebSocket upgrade) within this time, and an upgraded
   * sync socket must be authenticated and open its document within it again;
   * otherwise it is dropped. Ten seconds is ample on a slow mobile network and
   * keeps idle connections from piling up. Request bodies (uploads) and
   * responses (media downloads) are not limited by it.
   */
  handshakeTimeoutMs: number;
  /**
   * PARLEY_DRAIN_MS, default 5000: on SIGTERM or SIGINT the process first
   * answers readiness with 503 `draining` for this long, still serving what
   * it holds, so that a proxy's health check (deploy/haproxy.cfg checks every
   * second and takes a process out after two failures) stops sending it new
   * requests and sockets; then it closes its sockets (1012, the clients
   * reconnect at once, to another process) and stops. Five seconds covers two
   * or three failed checks; 0 stops at once (a single process with no proxy,
   * tests). A second signal skips what is left of the wait.
   */
  drainMs: number;
  /**
   * PARLEY_MAX_SOCKETS_PER_USER, default 200: sync sockets one account may
   * hold open at once, over all its devices and tabs. A tab of the web app
   * holds about 4 when idle (inbox, prefs, the open conversation's two
   * segments) and up to about 12 while it catches up (3 background segments,
   * a history segment, segments with unsent writes); 200 fits a dozen busy
   * tabs and devices with room to spare, and still bounds what one account
   * can hold.
   */
  maxSocketsPerUser: number;
  /**
   * PARLEY_MAX_DOCS_PER_USER, default 100: distinct documents one account may
   * hold open at once (each is loaded into the server's memory, a
   * conversation with both members' inboxes). Tabs of one account share the
   * inbox, prefs and mostly the same conversations, so this is below the
   * socket cap and still fits a dozen tabs each on a different conversation.
   */
  maxDocsPerUser: number;
  /**
   * PARLEY_MAX_MALFORMED_FRAMES, default 10: frames a sync socket may send
   * that the server cannot read (or of a type it does not know) before it is
   * closed (1002). An honest client sends none; the first is logged, the rest
   * only counted.
   */
  maxMalformedFrames: number;
  /**
   * PARLEY_MAX_SOCKET_BUFFER_BYTES, default 16 MiB: what the server may hold
   * for one sync socket that has not yet taken it (the socket's unsent
   * bytes). Past it the socket is closed (4509 `socket-too-slow`) and its
   * client reconnects and syncs what it missed, so a device that stops
   * reading (or a client that never does) costs at most this much memory
   * however much is broadcast to it. A frame larger than the cap still goes
   * when nothing is waiting (a sync step 2 of a large document); 16 MiB is
   * four of the largest updates (PARLEY_MAX_UPDATE_BYTES) on top of that, far
   * above what a phone on a slow network falls behind in a busy conversation.
   */
  maxSocketBufferBytes: number;
  /**
   * PARLEY_MAX_AWARENESS_BYTES, default 1024: the largest presence (awareness)
   * state a client may send, in bytes of its JSON. The app's state (`here`,
   * `typing`: two user ids) takes under 200; a larger one is neither kept nor
   * relayed, so no one parks data on every peer.
   */
  maxAwarenessBytes: number;
  /**
   * PARLEY_MAX_AWARENESS_CLIENTS, default 4: the presence client ids one
   * connection may announce. A y-websocket client announces one (its
   * document's); each further id would be another state on every peer.
   */
  maxAwarenessClients: number;
  /**
   * PARLEY_MEDIA_QUOTA_BYTES, default 1 GiB: the media one user may keep on
   * the server, each hash they uploaded counted once. Anyone may sign up, so
   * this bounds what one account pins on the disk; it is ten of the largest
   * videos, or some hundreds of full-size photos, which a person sending
   * pictures to friends takes months to fill.
   */
  mediaQuotaBytes: number;
  /**
   * PARLEY_MAX_PENDING_UPLOADS, default 16: unfinished uploads per user. The
   * app uploads one file at a time per device; the rest of the room is for
   * several devices and uploads abandoned until they expire.
   */
  maxPendingUploads: number;
  /**
   * PARLEY_MAX_PENDING_UPLOAD_BYTES, default 512 MiB: the sizes those unfinished
   * uploads declare, together (five of the largest files), so that no one
   * reserves disk space they never send.
   */
  maxPendingUploadBytes: number;
  /**
   * PARLEY_UPLOAD_EXPIRY_MS, default 24 hours: an upload that received no
   * bytes for this long is deleted with its temporary file (checked at start
   * and every half of it, at most hourly); the app then starts it again.
   */
  uploadExpiryMs: number;
  /**
   * PARLEY_MIN_FREE_DISK_BYTES, default 256 MiB: below this much free space on
   * the data directory's file system, uploads and new messages are refused
   * with storage-full (before anything is written, so nothing acknowledged is
   * lost), leaving room for the database to keep working: its write-ahead
   * log, recalls, sign-ins. Small enough for a small VPS disk, large enough
   * for a few uploads in flight. 0 turns the check off.
   */
  minFreeDiskBytes: number;
  /**
   * PARLEY_STORAGE_RETRY_MS, default 1000: after a commit failed (a full
   * disk, an I/O error), writes are refused (storage-full,
   * storage-unavailable) and a one-row write transaction probes the storage
   * this often; the first that commits ends the fault, so writes resume
   * by themselves within about this long of space coming back. A second
   * costs one tiny transaction and is short next to how long an operator
   * takes to free space.
   */
  storageRetryMs: number;
  /**
   * PARLEY_COMMIT_WINDOW_US, default 1000: under load, the group commit takes
   * a batch at most once per this many microseconds (storage/group-commit.ts),
   * so that at 1,000 msg/s a commit holds a few messages instead of one; a
   * write arriving after a quiet spell is committed at once. Fewer commits
   * cost less CPU per message (a message to the storage worker, a
   * transaction, the inbox entries) at the price of at most this much
   * latency. Node's timers count whole milliseconds, so a shorter window
   * waits about as long when it waits at all; 0 commits as soon as the
   * previous commit is done.
   */
  commitWindowUs: number;
  /**
   * PARLEY_STORAGE_RESUME_FREE_BYTES, default 8 MiB: after a commit failed
   * for want of space, writes resume only once the data directory's file
   * system has this much free again (and a probe commits). SQLite's
   * write-ahead log grows to about 4 MiB between checkpoints (1,000 pages),
   * and the checkpoint then grows the database file: less room than that
   * would let writes resume only to fail again a few commits later.
   */
  storageResumeFreeBytes: number;
  /**
   * PARLEY_PUSH_ALLOW, comma-separated, default `default` (the browsers' push
   * services: fcm.googleapis.com, *.push.services.mozilla.com,
   * *.notify.windows.com, web.push.apple.com, *.push.apple.com): the push
   * services subscriptions may point at, so that no one makes the server POST
   * into its own network. A host name, `*.domain` or `*` narrows (https on
   * 443, public addresses only); a full origin (`http://127.0.0.1:43210`)
   * allows exactly that origin, even a local one (a push service under test).
   * See push/endpoints.ts.
   */
  pushAllow: PushAllowList;
  /**
   * PARLEY_TRUST_PROXY, default 0: how many reverse proxies stand in front of
   * the server. 0 takes the client address from the TCP connection (an
   * X-Forwarded-For header could be forged by anyone); behind one proxy, 1
   * takes it from the header that proxy appends.
   */
  trustProxy: number;
  /** PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS, default 5: consecutive failed sign-ins of one account from one address before the pair is blocked (a success resets it). */
  signInFailsPerAccountAddress: number;
  /** PARLEY_SIGNIN_BLOCK_SECONDS, default 60: the first such block; each further one within a day doubles, up to an hour. An honest typo streak waits a minute. */
  signInBlockSeconds: number;
  /** PARLEY_SIGNIN_FAILS_PER_ACCOUNT, default 50: failed sign-ins of one account per hour from all addresses, against a guess spread over many addresses. */
  signInFailsPerAccount: number;
  /** PARLEY_SIGNIN_FAILS_PER_ADDRESS, default 100: failed sign-ins from one address per day to all accounts (the limiter's login recipe's figure), against one address sweeping ids. */
  signInFailsPerAddress: number;
  /** PARLEY_SIGNUPS_PER_ADDRESS, default 10: sign-ups from one address per hour; a household or office behind one address signs up a few people, not dozens. */
  signUpsPerAddress: number;
  /**
   * The hosted service's REST API under `/v4/` (compat/, docs/migrating.md),
   * off (null) unless PARLEY_COMPAT_SDKAPPID and PARLEY_COMPAT_SECRET_KEY are
   * both set:
   * - `sdkAppId`: PARLEY_COMPAT_SDKAPPID, the app id the backend's requests and UserSigs carry;
   * - `secretKey`: PARLEY_COMPAT_SECRET_KEY, the key UserSigs are signed with (HMAC-SHA256), at least 16 characters;
   * - `admins`: PARLEY_COMPAT_ADMINS, comma-separated, default `administrator` (the hosted service's
   *   default admin account): the identifiers whose UserSig may call `/v4/`;
   * - `mediaAllow`: PARLEY_COMPAT_MEDIA_ALLOW, origins a message's media URL is fetched from whatever they
   *   resolve to (a test's server, an intranet bucket); any other must be http(s) on the default port at a public address;
   * - `mediaTimeoutMs`: PARLEY_COMPAT_MEDIA_TIMEOUT_MS, default 30000: the longest one media fetch takes
   *   (100 MB at about 30 Mbit/s); its size is capped by the element's kind (MEDIA_LIMITS).
   */
  compat: CompatConfig | null;
  /**
   * The hosted service's callbacks (compat/callbacks*), off unless PARLEY_CALLBACK_URL is set:
   * - `url`: PARLEY_CALLBACK_URL, the app backend's callback URL; https on 443 at a public address unless
   *   PARLEY_CALLBACK_ALLOW lists its origin (the push endpoints' rule, against request forgery);
   * - `allow`: PARLEY_CALLBACK_ALLOW, origins called whatever they resolve to;
   * - `token`: PARLEY_CALLBACK_TOKEN, default none: signs each call (`Sign` = SHA-256 of token + RequestTime, hex);
   * - `beforeSend`: PARLEY_CALLBACK_BEFORE_SEND, default off: ask the backend before each user's message is accepted;
   * - `afterSend`: PARLEY_CALLBACK_AFTER_SEND, default on: tell the backend of each accepted one-to-one message;
   * - `timeoutMs`: PARLEY_CALLBACK_TIMEOUT_MS, default 2000: the before-send answer's deadline (the sender waits
   *   that long at most), and each after-send attempt's;
   * - `failClosed`: PARLEY_CALLBACK_FAIL, `open` (default: a message goes when the backend does not answer in
   *   time, so an outage of the backend is no outage of chat) or `closed` (it is refused, callback-unavailable);
   * - `retryMs`: PARLEY_CALLBACK_RETRY_MS, default 1000: the first after-send retry's delay, doubling to an hour;
   * - `maxAttempts`: PARLEY_CALLBACK_MAX_ATTEMPTS, default 20: after-send attempts before one is given up (logged).
   */
  callbacks: CallbackConfig | null;
  /** PARLEY_ADMIN_KEY_FAILS_PER_ADDRESS, default 10: wrong admin keys from one address per hour before it is refused for the rest of the hour. */
  adminKeyFailsPerAddress: number;
  /** PARLEY_SOCKET_UPGRADES_PER_USER, default 300: sync socket upgrades of one user per minute, all devices (the app opens one per document, and a few devices catching up after a night offline open a few a second). */
  socketUpgradesPerUser: number;
  /** PARLEY_PEOPLE_SEARCHES_PER_USER, default 60: people searches of one user per minute, all devices (the app searches as the user types, a few a second at most, debounced); with the 3-character minimum and 20 a page, walking the directory takes days. */
  peopleSearchesPerUser: number;
  /** PARLEY_EXPORTS_PER_USER, default 5: "download my data" archives of one user per day (each reads every conversation and every media file they sent). */
  exportsPerUser: number;
  /** PARLEY_INVITE_TTL_DAYS, default 7: how long a new invite link works. */
  inviteTtlDays: number;
  /** PARLEY_MAX_INVITES_PER_USER, default 20: live (unexpired, unrevoked) invite links one user may hold (`too-many-invites`). */
  maxInvitesPerUser: number;
  /**
   * PARLEY_MAX_FRAME_BYTES, default 16777216 (16 MiB): the largest WebSocket
   * frame a sync socket takes; a larger one closes the socket (1009) before it
   * is read into memory. Each connection is told it in the `limits` frame, and
   * the web app sends its state in pieces under it (protocol/src/split.ts).
   * It must exceed PARLEY_MAX_UPDATE_BYTES by 1 KiB, so that an update over
   * the budget is refused with a `reject` frame rather than a close.
   */
  maxFrameBytes: number;
  /**
   * PARLEY_MAX_UPDATE_BYTES, default 4194304 (4 MiB): the most bytes one sync
   * update may hold; a larger one is refused (`update-too-large`) before it is
   * decoded. An honest device's largest update is its sync step 2 after an
   * offline spell, which the web app sends in pieces within this budget
   * (told in the `limits` frame); 300 messages of the full 12 KB fit in one.
   */
  maxUpdateBytes: number;
  /**
   * PARLEY_MAX_UPDATE_STRUCTS, default 10000: the most Yjs structs (plus
   * deletion ranges) one update may hold. Each is a message, reaction, receipt
   * or deletion a device wrote since it last synced that document (one
   * conversation's month), so 10,000 is far above any person's offline spell,
   * and an update this size is validated in tens of milliseconds.
   */
  maxUpdateStructs: number;
  /** PARLEY_MESSAGE_RATE, default 5: new messages, edits, reactions and actions a user may write per second, sustained (sync/write-rate.ts). */
  messageRate: number;
  /** PARLEY_MESSAGE_BURST, default 50: how many of those a user may write at once, above the rate, after a quiet spell. */
  messageBurst: number;
  /**
   * PARLEY_STARTUP_CHECK, default quick: how the database is checked before
   * the server starts (storage/data-dir.ts). `quick` (PRAGMA quick_check)
   * reads every page and b-tree, about a second per few hundred MB, and finds
   * a corrupt page before a conversation does; `full` (integrity_check) also
   * checks every index against its table, several times slower; `off` skips
   * it, for a database too large to wait for (check it with a backup then).
   */
  startupCheck: StartupCheck;
  /**
   * PARLEY_REDIS_URL, default unset (one process): `redis://host:port`, with
   * PARLEY_DATABASE_URL, makes this process one of a cluster that shares
   * sockets, presence, rate limits and the push queue through Redis
   * (cluster/). Redis holds nothing durable.
   */
  redisUrl: string | null;
  /** PARLEY_REDIS_PREFIX, default `parley:`: every key and channel of this cluster starts with it, so clusters can share one Redis. */
  redisPrefix: string;
  /**
   * PARLEY_CLUSTER_SWEEP_MS, default 1000: how often a process checks whether
   * the leaders of the documents it follows are still there, and takes over
   * those whose leader died (their lease is free as soon as its process is).
   * A dead leader's documents take writes again within about this long.
   */
  clusterSweepMs: number;
  /** PARLEY_CLUSTER_HEARTBEAT_MS, default 1000: each process's heartbeat; one silent for 3.5 of them is gone, and its devices offline. */
  clusterHeartbeatMs: number;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The data dir from PARLEY_DATA_DIR (default ./data), as the server and the backup tools find it. */
export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return resolve(env.PARLEY_DATA_DIR === undefined || env.PARLEY_DATA_DIR === '' ? 'data' : env.PARLEY_DATA_DIR);
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const dataDir = dataDirOf(env);
  makeDirectoryDurably(dataDir);
  const database = databaseUrl(env);
  // Before any secret is generated: generated secrets beside no database are a lost database (on SQLite; PostgreSQL keeps no file here).
  if (database === null) checkDatabasePresent(dataDir);
  const logLevel = (env.PARLEY_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`PARLEY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  if (env.PARLEY_APP_SECRET !== undefined && env.PARLEY_APP_SECRET !== '' && env.PARLEY_APP_SECRET.length < 16) throw new ConfigError('PARLEY_APP_SECRET must be at least 16 characters');
  if (env.PARLEY_ADMIN_KEY !== undefined && env.PARLEY_ADMIN_KEY !== '' && env.PARLEY_ADMIN_KEY.length < 16) throw new ConfigError('PARLEY_ADMIN_KEY must be at least 16 characters');
  let staticDir: string | null;
  if (env.PARLEY_STATIC_DIR !== undefined && env.PARLEY_STATIC_DIR !== '') {
    staticDir = resolve(env.PARLEY_STATIC_DIR);
    if (!existsSync(join(staticDir, 'index.html'))) throw new ConfigError(`PARLEY_STATIC_DIR ${staticDir} holds no index.html`);
  } else {
    const dist = join(REPO_ROOT, 'dist');
    staticDir = existsSync(join(dist, 'index.html')) ? dist : null;
  }
  // Every setting is read (and a bad one refused) before a secret is generated: generated
  // secrets beside no database would make the next start refuse the data dir as a lost database.
  const settings = {
    port: integer(env, 'PARLEY_PORT', 8080, 0, 65535),
    host: env.PARLEY_HOST ?? '0.0.0.0',
    dataDir,
    databaseUrl: database,
    databasePool: integer(env, 'PARLEY_DATABASE_POOL', 10, 1, 1000),
    staticDir,
    unloadAfterMs: integer(env, 'PARLEY_UNLOAD_AFTER_MS', 30_000, 0, 24 * 3600_000),
    accessTokenTtl: integer(env, 'PARLEY_ACCESS_TOKEN_TTL', 3600, 1, 30 * 24 * 3600),
    sessionIdleDays: integer(env, 'PARLEY_SESSION_IDLE_DAYS', 90, 1, 3650),
    logLevel,
    vapidSubject: vapidSubject(env),
    linkPreviews: onOff(env, 'PARLEY_LINK_PREVIEWS', true),
    linkPreviewAllow: origins(env, 'PARLEY_LINK_PREVIEW_ALLOW'),
    linkPreviewTimeoutMs: integer(env, 'PARLEY_LINK_PREVIEW_TIMEOUT_MS', 5000, 100, 60_000),
    linkPreviewPageBytes: integer(env, 'PARLEY_LINK_PREVIEW_PAGE_BYTES', 512 * 1024, 1024, 16 * MiB),
    linkPreviewImageBytes: integer(env, 'PARLEY_LINK_PREVIEW_IMAGE_BYTES', 2 * MiB, 1024, 64 * MiB),
    linkPreviewsPerMinute: integer(env, 'PARLEY_LINK_PREVIEWS_PER_MINUTE', 30, 1, 100_000),
    linkPreviewCache: integer(env, 'PARLEY_LINK_PREVIEW_CACHE', 1000, 1, 1_000_000),
    pushRetryMs: integer(env, 'PARLEY_PUSH_RETRY_MS', 1000, 1, 3600_000),
    pushClaimMs: integer(env, 'PARLEY_PUSH_CLAIM_MS', 30_000, 30, 3600_000),
    pushCacheUsers: integer(env, 'PARLEY_PUSH_CACHE_USERS', 10_000, 1, 10_000_000),
    pushAllow: pushAllow(env),
    recallWindowMs: integer(env, 'PARLEY_RECALL_WINDOW_MS', 2 * 60_000, 0, 30 * 24 * 3600_000),
    maxMarkedMessages: integer(env, 'PARLEY_MAX_MARKED_MESSAGES', LIMITS.hiddenMessages, 1, 1_000_000),
    maxClockSkewMs: integer(env, 'PARLEY_MAX_CLOCK_SKEW_MS', 5 * 60_000, 0, 24 * 3600_000),
    maxMessageAgeMs: integer(env, 'PARLEY_MAX_MESSAGE_AGE_MS', 30 * 24 * 3600_000, 60_000, 3650 * 24 * 3600_000),
    pingIntervalMs: integer(env, 'PARLEY_PING_INTERVAL_MS', 30_000, 10, 3600_000),
    handshakeTimeoutMs: integer(env, 'PARLEY_HANDSHAKE_TIMEOUT_MS', 10_000, 10, 120_000),
    drainMs: integer(env, 'PARLEY_DRAIN_MS', 5000, 0, 10 * 60_000),
    maxSocketsPerUser: integer(env, 'PARLEY_MAX_SOCKETS_PER_USER', 200, 1, 1_000_000),
    maxDocsPerUser: integer(env, 'PARLEY_MAX_DOCS_PER_USER', 100, 1, 1_000_000),
    maxMalformedFrames: integer(env, 'PARLEY_MAX_MALFORMED_FRAMES', 10, 1, 1_000_000),
    maxSocketBufferBytes: integer(env, 'PARLEY_MAX_SOCKET_BUFFER_BYTES', 16 * MiB, 64 * 1024, GiB),
    maxAwarenessBytes: integer(env, 'PARLEY_MAX_AWARENESS_BYTES', 1024, 64, 65_536),
    maxAwarenessClients: integer(env, 'PARLEY_MAX_AWARENESS_CLIENTS', 4, 1, 1024),
    mediaQuotaBytes: integer(env, 'PARLEY_MEDIA_QUOTA_BYTES', GiB, 0, Number.MAX_SAFE_INTEGER),
    maxPendingUploads: integer(env, 'PARLEY_MAX_PENDING_UPLOADS', 16, 1, 10_000),
    maxPendingUploadBytes: integer(env, 'PARLEY_MAX_PENDING_UPLOAD_BYTES', 512 * MiB, 0, Number.MAX_SAFE_INTEGER),
    uploadExpiryMs: integer(env, 'PARLEY_UPLOAD_EXPIRY_MS', 24 * 3600_000, 1, 365 * 24 * 3600_000),
    minFreeDiskBytes: integer(env, 'PARLEY_MIN_FREE_DISK_BYTES', 256 * MiB, 0, Number.MAX_SAFE_INTEGER),
    storageRetryMs: integer(env, 'PARLEY_STORAGE_RETRY_MS', 1000, 10, 3600_000),
    commitWindowUs: integer(env, 'PARLEY_COMMIT_WINDOW_US', 1000, 0, 1_000_000),
    storageResumeFreeBytes: integer(env, 'PARLEY_STORAGE_RESUME_FREE_BYTES', 8 * MiB, 0, Number.MAX_SAFE_INTEGER),
    trustProxy: integer(env, 'PARLEY_TRUST_PROXY', 0, 0, 16),
    signInFailsPerAccountAddress: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS', 5, 1, 1_000_000),
    signInBlockSeconds: integer(env, 'PARLEY_SIGNIN_BLOCK_SECONDS', 60, 1, 3600),
    signInFailsPerAccount: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ACCOUNT', 50, 1, 1_000_000),
    signInFailsPerAddress: integer(env, 'PARLEY_SIGNIN_FAILS_PER_ADDRESS', 100, 1, 1_000_000),
    signUpsPerAddress: integer(env, 'PARLEY_SIGNUPS_PER_ADDRESS', 10, 1, 1_000_000),
    adminKeyFailsPerAddress: integer(env, 'PARLEY_ADMIN_KEY_FAILS_PER_ADDRESS', 10, 1, 1_000_000),
    socketUpgradesPerUser: integer(env, 'PARLEY_SOCKET_UPGRADES_PER_USER', 300, 1, 1_000_000),
    peopleSearchesPerUser: integer(env, 'PARLEY_PEOPLE_SEARCHES_PER_USER', 60, 1, 1_000_000),
    exportsPerUser: integer(env, 'PARLEY_EXPORTS_PER_USER', 5, 1, 1_000_000),
    inviteTtlDays: integer(env, 'PARLEY_INVITE_TTL_DAYS', 7, 1, 365),
    maxInvitesPerUser: integer(env, 'PARLEY_MAX_INVITES_PER_USER', 20, 1, 1000),
    ...frameAndUpdate(env),
    maxUpdateStructs: integer(env, 'PARLEY_MAX_UPDATE_STRUCTS', DEFAULT_SYNC_LIMITS.maxUpdateStructs, 100, 1_000_000),
    messageRate: integer(env, 'PARLEY_MESSAGE_RATE', 5, 1, 100_000),
    messageBurst: integer(env, 'PARLEY_MESSAGE_BURST', DEFAULT_SYNC_LIMITS.writeBurst, 1, 1_000_000),
    startupCheck: startupCheck(env),
    redisUrl: env.PARLEY_REDIS_URL === undefined || env.PARLEY_REDIS_URL === '' ? null : env.PARLEY_REDIS_URL,
    redisPrefix: env.PARLEY_REDIS_PREFIX ?? 'parley:',
    clusterSweepMs: integer(env, 'PARLEY_CLUSTER_SWEEP_MS', 1000, 10, 60_000),
    clusterHeartbeatMs: integer(env, 'PARLEY_CLUSTER_HEARTBEAT_MS', 1000, 10, 60_000),
    compat: compatConfig(env),
    callbacks: callbackConfig(env),
  };
  if (settings.redisUrl !== null && settings.databaseUrl === null) {
    throw new ConfigError('PARLEY_REDIS_URL runs this process in a cluster, which keeps its data in PostgreSQL: set PARLEY_DATABASE_URL too (docs/deploy.md)');
  }
  return {
    ...settings,
    appSecret: env.PARLEY_APP_SECRET !== undefined && env.PARLEY_APP_SECRET !== '' ? env.PARLEY_APP_SECRET : fileSecret(dataDir, 'app-secret'),
    adminKey: env.PARLEY_ADMIN_KEY !== undefined && env.PARLEY_ADMIN_KEY !== '' ? env.PARLEY_ADMIN_KEY : fileSecret(dataDir, 'admin-key'),
    jwtSecret: fileSecret(dataDir, 'jwt-secret'),
  };
}

/** The `compat` settings alone: `npm run usersig` signs with them without opening a data dir. */
export function compatConfig(env: NodeJS.ProcessEnv): CompatConfig | null {
  const appId = env.PARLEY_COMPAT_SDKAPPID ?? '';
  const key = env.PARLEY_COMPAT_SECRET_KEY ?? '';
  if (appId === '' && key === '') return null;
  if (appId === '' || key === '') throw new ConfigError('PARLEY_COMPAT_SDKAPPID and PARLEY_COMPAT_SECRET_KEY go together: set both to serve /v4/, or neither');
  if (key.length < 16) throw new ConfigError('PARLEY_COMPAT_SECRET_KEY must be at least 16 characters');
  const admins = (env.PARLEY_COMPAT_ADMINS ?? 'administrator').split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (admins.length === 0) throw new ConfigError('PARLEY_COMPAT_ADMINS names no identifier');
  return {
    sdkAppId: integer(env, 'PARLEY_COMPAT_SDKAPPID', 0, 1, 4_294_967_295),
    secretKey: key,
    admins,
    mediaAllow: origins(env, 'PARLEY_COMPAT_MEDIA_ALLOW'),
    mediaTimeoutMs: integer(env, 'PARLEY_COMPAT_MEDIA_TIMEOUT_MS', 30_000, 100, 3600_000),
  };
}

function callbackConfig(env: NodeJS.ProcessEnv): CallbackConfig | null {
  const url = env.PARLEY_CALLBACK_URL ?? '';
  if (url === '') return null;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ConfigError('PARLEY_CALLBACK_URL must be an http(s) URL');
  const fail = env.PARLEY_CALLBACK_FAIL ?? 'open';
  if (fail !== 'open' && fail !== 'closed') throw new ConfigError('PARLEY_CALLBACK_FAIL must be open or closed');
  return {
    url,
    allow: origins(env, 'PARLEY_CALLBACK_ALLOW'),
    token: env.PARLEY_CALLBACK_TOKEN === undefined || env.PARLEY_CALLBACK_TOKEN === '' ? null : env.PARLEY_CALLBACK_TOKEN,
    beforeSend: onOff(env, 'PARLEY_CALLBACK_BEFORE_SEND', false),
    afterSend: onOff(env, 'PARLEY_CALLBACK_AFTER_SEND', true),
    timeoutMs: integer(env, 'PARLEY_CALLBACK_TIMEOUT_MS', 2000, 50, 60_000),
    failClosed: fail === 'closed',
    retryMs: integer(env, 'PARLEY_CALLBACK_RETRY_MS', 1000, 1, 3600_000),
    maxAttempts: integer(env, 'PARLEY_CALLBACK_MAX_ATTEMPTS', 20, 1, 1000),
  };
}
