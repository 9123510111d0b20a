/**
 * What moves between the processes of a cluster, over Redis: messages on
 * channels (pub/sub), and the Redis commands of the parts that keep shared,
 * short-lived state there (presence, rate limits, node liveness).
 *
 * Redis holds nothing durable: everything a process publishes is either in
 * PostgreSQL already (an accepted update, published after its commit) or
 * ephemeral (presence, typing). So a message lost while Redis restarts costs
 * nothing but a resync: every subscriber hears `resynced` once the bus is
 * back, and reloads what it holds from PostgreSQL.
 *
 * One connection publishes and runs commands, one subscribes (a subscribed
 * Redis connection takes no other commands). Redis delivers the messages one
 * publisher sends, on every channel, in the order it sent them, to each
 * subscriber connection: a document's update published before the `ack` of
 * the write that made it arrives before that ack, on any process.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Log } from '../log.ts';

export type BusHandler = (message: Buffer) => void;

export interface Bus {
  /** This process's id in the cluster: random per start. */
  readonly node: string;
  /** Every key and channel of this cluster starts with it (PARLEY_REDIS_PREFIX). */
  readonly prefix: string;
  /** The command connection (never subscribed). */
  readonly redis: Redis;
  publish(channel: string, message: Buffer | string): void;
  /** Hears `channel` (this process's own messages too) until the returned function is called. */
  subscribe(channel: string, handler: BusHandler): () => void;
  /** Settles once Redis has confirmed the subscription to `channel`: from then on nothing published on it is missed. */
  subscribed(channel: string): Promise<void>;
  /** Called after Redis came back from an outage: messages may have been lost meanwhile. */
  onResync(listener: () => void): void;
  close(): Promise<void>;
}

export class RedisBus implements Bus {
  readonly node = randomBytes(8).toString('hex');
  readonly redis: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  /** Each channel's SUBSCRIBE, confirmed or not. */
  private readonly confirmed = new Map<string, Promise<void>>();
  private readonly resyncListeners: (() => void)[] = [];
  /** The subscriber lost its connection since it was last ready. */
  private lost = false;

  private constructor(
    url: string,
    readonly prefix: string,
    private readonly log: Log,
  ) {
    // Commands wait in ioredis's queue while Redis is away, and are sent once it is back.
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      for (const handler of this.handlers.get(channel.toString()) ?? []) {
        try {
          handler(message);
        } catch (error) {
          this.log.error({ err: error, channel: channel.toString() }, 'cluster: a bus message could not be handled');
        }
      }
    });
    for (const connection of [this.redis, this.sub]) connection.on('error', (err: unknown) => this.log.warn({ err }, 'cluster: redis'));
    this.sub.on('close', () => {
      this.lost = true;
    });
    // ioredis subscribes to every channel again on reconnect (autoResubscribe) before `ready`.
    this.sub.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      this.log.info({ event: 'redis-back' }, 'cluster: redis is back; resyncing from storage');
      for (const listener of this.resyncListeners) listener();
    });
  }

  static async connect(url: string, prefix: string, log: Log): Promise<RedisBus> {
    const bus = new RedisBus(url, prefix, log);
    await Promise.all([bus.redis.connect(), bus.sub.connect()]);
    return bus;
  }

  publish(channel: string, message: Buffer | string): void {
    this.redis.publish(this.prefix + channel, message).catch((err: unknown) => this.log.warn({ err, channel }, 'cluster: a bus message was not published'));
  }

  subscribe(channel: string, handler: BusHandler): () => void {
    const name = this.prefix + channel;
    let set = this.handlers.get(name);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(name, set);
      this.confirmed.set(
        name,
        this.sub.subscribe(name).then(
          () => undefined,
          (err: unknown) => this.log.warn({ err, channel }, 'cluster: subscribe failed'),
        ),
      );
    }
    set.add(handler);
    return () => {
      const current = this.handlers.get(name);
      if (current === undefined || !current.delete(handler) || current.size > 0) return;
      this.handlers.delete(name);
      this.confirmed.delete(name);
      this.sub.unsubscribe(name).catch(() => undefined);
    };
  }

  subscribed(channel: string): Promise<void> {
    return this.confirmed.get(this.prefix + channel) ?? Promise.resolve();
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.allSettled([this.redis.quit(), this.sub.quit()]);
  }
}
