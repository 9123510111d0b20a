/**
 * The rate limits of accounts and sockets, built on rate-limiter-flexible.
 * Every limiter is constructed here and nowhere else: the server keeps them
 * in memory (RateLimiterMemory) while it runs on one node; in a cluster (a
 * bus given) they are RateLimiterRedis with the same options, counted in
 * Redis under the cluster's prefix, so every process sees every attempt.
 * While Redis is away (not ready), each process counts in its own memory
 * instead (the library's insurance limiter): limits then hold per process,
 * not in total, rather than every sign-in waiting for Redis.
 *
 * Sign-in follows the library's login-endpoint recipe (its wiki, "Overall
 * example"): only failures count, each attempt first reads (`get`, cheap)
 * whether its keys are blocked, and a success deletes the account+address
 * counter. Three counters:
 * - per account and client address, consecutive failures: after N, the pair
 *   is blocked, for a time that doubles with each block in a day (the
 *   recipe's dynamic block duration), up to an hour;
 * - per account, from every address: a ceiling against a slow guess spread
 *   over many addresses (an attack on one account may then refuse its owner
 *   too, for at most the rest of the hour: the price of stopping it);
 * - per client address, over every account: against one address sweeping
 *   many ids.
 * Sign-up counts every attempt per client address; the admin key counts wrong
 * keys per client address; socket upgrades, people searches, data exports
 * and link previews count per user, after the token is verified (so a refusal never
 * tells an anonymous caller anything); link previews cached ones too.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { userIdKey } from '@parley/protocol';
import type { Bus } from '../cluster/bus.ts';
import type { Config } from '../config.ts';
import { Refusal } from '../errors.ts';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The longest a sign-in block lasts, however many came before it. */
const MAX_SIGNIN_BLOCK_SECONDS = HOUR;

/** The limits' settings, as the configuration holds them (each documented in config.ts). */
export type RateLimitSettings = Pick<
  Config,
  | 'signInFailsPerAccountAddress'
  | 'signInBlockSeconds'
  | 'signInFailsPerAccount'
  | 'signInFailsPerAddress'
  | 'signUpsPerAddress'
  | 'adminKeyFailsPerAddress'
  | 'socketUpgradesPerUser'
  | 'linkPreviewsPerMinute'
  | 'peopleSearchesPerUser'
  | 'exportsPerUser'
>;

/** A `rate-limited` refusal; the error funnel sends `retryAfter` (whole seconds, at least 1) as `Retry-After`. */
export class RateLimited extends Refusal {
  readonly retryAfter: number;
  constructor(ms: number) {
    super('rate-limited');
    this.retryAfter = retryAfterSeconds(ms);
  }
}

export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** The wait before `key` may try again, ms; 0 when it is not blocked. */
async function blockedFor(limiter: RateLimiterAbstract, key: string): Promise<number> {
  const res = await limiter.get(key);
  return res !== null && res.consumedPoints > limiter.points ? res.msBeforeNext : 0;
}

/** Consumes one point; the wait when that went over the limit, else 0. */
async function take(limiter: RateLimiterAbstract, key: string): Promise<number> {
  try {
    await limiter.consume(key);
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection.msBeforeNext;
    throw rejection;
  }
}

/** Counts one failure; the one that uses the last point blocks `key` for `seconds` (the next attempt is refused). True when it blocked. */
async function fail(limiter: RateLimiterAbstract, key: string, seconds: () => Promise<number> | number): Promise<boolean> {
  let consumed: number;
  try {
    consumed = (await limiter.consume(key)).consumedPoints;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    consumed = rejection.consumedPoints;
  }
  if (consumed < limiter.points) return false;
  await limiter.block(key, await seconds());
  return true;
}

export class RateLimits {
  private readonly signInPair: RateLimiterAbstract;
  private readonly signInBlocks: RateLimiterAbstract;
  private readonly signInAccount: RateLimiterAbstract;
  private readonly signInAddress: RateLimiterAbstract;
  private readonly signUps: RateLimiterAbstract;
  private readonly adminKeys: RateLimiterAbstract;
  private readonly upgrades: RateLimiterAbstract;
  private readonly linkPreviews: RateLimiterAbstract;
  private readonly searches: RateLimiterAbstract;
  private readonly exports: RateLimiterAbstract;

  constructor(
    private readonly settings: RateLimitSettings,
    bus?: Bus,
  ) {
    const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      if (bus === undefined) return memory;
      return new RateLimiterRedis({
        storeClient: bus.redis,
        useRedisPackage: false,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
        keyPrefix: `${bus.prefix}${keyPrefix}`,
        points,
        duration,
      });
    };
    // Consecutive: a failure streak is forgotten after a day without failures, or at once on success.
    this.signInPair = limiter('signin_fail_account_address', settings.signInFailsPerAccountAddress, DAY);
    // How many times the pair was blocked today: the exponent of the next block.
    this.signInBlocks = limiter('signin_blocks_account_address', Number.MAX_SAFE_INTEGER, DAY);
    this.signInAccount = limiter('signin_fail_account', settings.signInFailsPerAccount, HOUR);
    this.signInAddress = limiter('signin_fail_address', settings.signInFailsPerAddress, DAY);
    this.signUps = limiter('signup_address', settings.signUpsPerAddress, HOUR);
    this.adminKeys = limiter('admin_key_fail_address', settings.adminKeyFailsPerAddress, HOUR);
    this.upgrades = limiter('socket_upgrade_user', settings.socketUpgradesPerUser, MINUTE);
    this.linkPreviews = limiter('link_preview_user', settings.linkPreviewsPerMinute, MINUTE);
    this.searches = limiter('people_search_user', settings.peopleSearchesPerUser, MINUTE);
    this.exports = limiter('export_user', settings.exportsPerUser, DAY);
  }

  /** Refuses a sign-in attempt while the account, the address or the pair is blocked. */
  async checkSignIn(user: string, address: string): Promise<void> {
    const account = userIdKey(user);
    const waits = await Promise.all([
      blockedFor(this.signInPair, `${account}|${address}`),
      blockedFor(this.signInAccount, account),
      blockedFor(this.signInAddress, address),
    ]);
    const wait = Math.max(...waits);
    if (wait > 0) throw new RateLimited(wait);
  }

  /** Counts a failed sign-in; the pair's N-th consecutive failure blocks it, for longer each time today. */
  async signInFailed(user: string, address: string): Promise<void> {
    const account = userIdKey(user);
    const pair = `${account}|${address}`;
    await Promise.all([
      fail(this.signInAccount, account, () => HOUR),
      fail(this.signInAddress, address, () => DAY),
      fail(this.signInPair, pair, async () => {
        const blocks = (await this.signInBlocks.penalty(pair)).consumedPoints;
        return Math.min(MAX_SIGNIN_BLOCK_SECONDS, this.settings.signInBlockSeconds * 2 ** Math.min(blocks - 1, 20));
      }),
    ]);
  }

  /** A success forgets the pair's failure streak and its blocks. */
  async signInSucceeded(user: string, address: string): Promise<void> {
    const pair = `${userIdKey(user)}|${address}`;
    await Promise.all([this.signInPair.delete(pair), this.signInBlocks.delete(pair)]);
  }

  /** Counts a sign-up attempt; refuses past the address's hourly allowance. */
  async signUp(address: string): Promise<void> {
    const wait = await take(this.signUps, address);
    if (wait > 0) throw new RateLimited(wait);
  }

  /** Refuses any admin-key attempt from an address blocked for wrong keys. */
  async checkAdminKey(address: string): Promise<void> {
    const wait = await blockedFor(this.adminKeys, address);
    if (wait > 0) throw new RateLimited(wait);
  }

  async adminKeyFailed(address: string): Promise<void> {
    await fail(this.adminKeys, address, () => HOUR);
  }

  /** Counts a link preview asked by `user`; refuses past their allowance for the minute. */
  async linkPreview(user: string): Promise<void> {
    const wait = await take(this.linkPreviews, userIdKey(user));
    if (wait > 0) throw new RateLimited(wait);
  }

  /** Counts a people search of `user`; refuses past the per-minute allowance (a directory walk, not a person typing). */
  async peopleSearch(user: string): Promise<void> {
    const wait = await take(this.searches, user);
    if (wait > 0) throw new RateLimited(wait);
  }

  /** Counts a data export of `user` (GET /me/export reads every conversation and media file they sent); refuses past the daily allowance. */
  async dataExport(user: string): Promise<void> {
    const wait = await take(this.exports, userIdKey(user));
    if (wait > 0) throw new RateLimited(wait);
  }

  /** Counts a socket upgrade of `user`; the wait in ms when over the limit, else 0. */
  socketUpgrade(user: string): Promise<number> {
    return take(this.upgrades, user);
  }
}
