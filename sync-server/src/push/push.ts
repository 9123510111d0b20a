/**
 * Web Push, put together: the VAPID keys, the devices' subscriptions, the
 * notifier that listens to the hub, and the queue that sends.
 *
 *   hub: messages durable / recalled → notifier: which offline devices, muted?
 *   → queue: rows in storage → sender: encrypt, sign, POST → push service
 */
import { randomBytes } from 'node:crypto';
import type { PushSubscriptionBody } from '@parley/protocol';
import type { Bus } from '../cluster/bus.ts';
import type { Config } from '../config.ts';
import { DEFAULT_VAPID_SUBJECT } from '../config/values.ts';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { PushEndpoints, type Resolver } from './endpoints.ts';
import { MuteMirror } from './mutes.ts';
import { PushNotifier } from './notifier.ts';
import { PushQueue } from './queue.ts';
import { PushSender } from './sender.ts';
import { subscriptionRecord } from './subscription.ts';
import { PushSubscriptions } from './subscriptions.ts';
import { loadVapid } from './vapid.ts';

export class PushService {
  private constructor(
    /** The VAPID public key browsers subscribe with. */
    readonly publicKey: string,
    private readonly subscriptions: PushSubscriptions,
    private readonly hub: SyncHub,
    private readonly notifier: PushNotifier,
    private readonly queue: PushQueue,
    private readonly sender: PushSender,
    private readonly endpoints: PushEndpoints,
  ) {}

  /**
   * Loads (or creates) the keys, listens to the hub, and resumes the pushes a
   * previous run left. With a bus, this process is one of a cluster: the
   * queue shares its rows with the others, and subscription changes clear
   * every process's cache.
   */
  static async start(options: { config: Config; storage: Storage; hub: SyncHub; log: Log; resolver?: Resolver; bus?: Bus }): Promise<PushService> {
    const { config, storage, hub, log, resolver, bus } = options;
    const vapid = loadVapid(config.dataDir, config.vapidSubject);
    if (config.vapidSubject === DEFAULT_VAPID_SUBJECT) log.info({ subject: vapid.subject }, 'PARLEY_VAPID_SUBJECT is not set: push services see a placeholder contact');
    const endpoints = new PushEndpoints(config.pushAllow, resolver);
    const sender = new PushSender(vapid, endpoints);
    const subscriptions = new PushSubscriptions(storage, config.pushCacheUsers, bus);
    const queue = new PushQueue({
      storage,
      subscriptions,
      sender,
      log,
      retryBaseMs: config.pushRetryMs,
      node: bus?.node ?? randomBytes(8).toString('hex'),
      claimMs: config.pushClaimMs,
      ...(bus === undefined ? {} : { bus }),
      // On every process of a cluster (cluster/state.ts keeps the others' devices in memory).
      online: (user, device) => hub.devicesOnline(user).includes(device),
    });
    const notifier = new PushNotifier({ storage, subscriptions, queue, log, mutes: new MuteMirror(hub.registry), devicesOnline: (user) => hub.devicesOnline(user) });
    hub.observe(notifier);
    await queue.start();
    return new PushService(vapid.publicKey, subscriptions, hub, notifier, queue, sender, endpoints);
  }

  /** Whether some device of `user` has a push subscription (the admin's online states: `push`). */
  async reachable(user: string): Promise<boolean> {
    return (await this.subscriptions.of(user)).length > 0;
  }

  /** Creates or replaces the subscription of the caller's device; refuses keys that cannot encrypt and an endpoint it may not POST to. */
  async subscribe(user: string, device: string, body: PushSubscriptionBody): Promise<void> {
    const record = subscriptionRecord(user, device, body, Date.now());
    try {
      await this.endpoints.check(body.endpoint);
    } catch (error) {
      if (error instanceof Refusal) throw error;
      // A name that does not resolve now: nothing to judge, so nothing is stored.
      throw new Refusal('push-endpoint-forbidden', `its host does not resolve (${(error as Error).message})`);
    }
    await this.subscriptions.put(record);
  }

  /** The device gets no more pushes (sign-out). */
  async unsubscribe(user: string, device: string): Promise<void> {
    await this.subscriptions.delete(user, device);
  }

  /** Settles once every push decided so far is sent or given up (tests). */
  async idle(): Promise<void> {
    await this.notifier.idle();
    await this.queue.idle();
  }

  /**
   * Stops, after the decisions for every message already committed are made
   * and their pushes stored; requests in flight are aborted and resumed on
   * the next start. Call before the hub closes (decisions may read documents).
   */
  async close(): Promise<void> {
    await this.hub.commit.idle();
    // Observers hear of a commit a few microtasks after it settles.
    await new Promise((resolve) => setImmediate(resolve));
    await this.notifier.idle();
    await this.queue.close();
    this.subscriptions.close();
    this.sender.close();
  }
}
