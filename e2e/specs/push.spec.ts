/**
 * Web Push, from the server's push to a click on the notification.
 *
 * What is real: the Parley server and its push path (offline device chosen,
 * payload built, encrypted with RFC 8291 and POSTed with VAPID), the app's
 * subscribe flow (prompt, permission, `GET /push/key`, `PUT
 * /push/subscription`), the service worker's push handling (notification,
 * IndexedDB, badge), Chromium's notification display and its trusted
 * `notificationclick`, and the app opening the conversation.
 *
 * What stands in, and why:
 * - the browser's push subscription: headless Chromium cannot reach a push
 *   service (`pushManager.subscribe` fails), so `PushManager` in the page
 *   answers with a subscription at the test's push service (push-service.ts);
 * - the push service: it decrypts the server's push and the test hands the
 *   JSON to the real service worker with the DevTools protocol
 *   (`ServiceWorker.deliverPushMessage`), as Chromium does with what it gets;
 * - the desktop's notification centre: Chromium on Linux shows notifications
 *   through D-Bus, where the test owns `org.freedesktop.Notifications`
 *   (notification-daemon.ts) and clicks by sending `ActionInvoked`, as a
 *   notification centre does. That needs a persistent browser profile
 *   (Chromium routes a click to the profile by its id), hence
 *   `launchPersistentContext` for the device that gets pushes.
 */
import type { BrowserContext, CDPSession, Page, Worker } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PushPayload } from '@parley/protocol';
import { Device, expect, type Parley, test } from '../fixtures.ts';
import { NotificationDaemon, type ShownNotification } from '../notification-daemon.ts';
import { PushService } from '../push-service.ts';

type Subscription = ReturnType<PushService['subscription']>;

/**
 * The page's PushManager answers with `subscription` (what a browser would get
 * from its push service), remembered across reloads like a real one.
 */
function stubPushManager(subscription: Subscription): void {
  const KEY = 'e2e.pushSubscription';
  interface Stored {
    endpoint: string;
    keys: { p256dh: string; auth: string };
    key: string;
  }
  const make = (stored: Stored): PushSubscription =>
    ({
      endpoint: stored.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: Uint8Array.from(atob(stored.key), (c) => c.charCodeAt(0)).buffer },
      getKey: () => null,
      toJSON: () => ({ endpoint: stored.endpoint, expirationTime: null, keys: stored.keys }),
      unsubscribe: () => {
        localStorage.removeItem(KEY);
        return Promise.resolve(true);
      },
    });
  PushManager.prototype.subscribe = function (options?: PushSubscriptionOptionsInit) {
    const key = options?.applicationServerKey;
    const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array();
    const stored: Stored = { endpoint: subscription.endpoint, keys: subscription.keys, key: btoa(String.fromCharCode(...bytes)) };
    localStorage.setItem(KEY, JSON.stringify(stored));
    return Promise.resolve(make(stored));
  };
  PushManager.prototype.getSubscription = function () {
    const stored = localStorage.getItem(KEY);
    return Promise.resolve(stored === null ? null : make(JSON.parse(stored) as Stored));
  };
}

/** A browser install that gets pushes: its own profile, its notifications on the test's D-Bus. */
class PushedDevice {
  private registrationId: string | undefined;
  readonly log: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    /** A blank tab: the DevTools session lives here, so the app's pages can all close. */
    private readonly cdp: CDPSession,
    readonly daemon: NotificationDaemon,
    private readonly origin: string,
    private readonly profileDir: string,
  ) {}

  static async launch(
    parley: Parley,
    playwright: { chromium: { launchPersistentContext: (dir: string, options: object) => Promise<BrowserContext> } },
    launchOptions: object,
    subscription: Subscription,
  ): Promise<PushedDevice> {
    const daemon = await NotificationDaemon.start();
    const profileDir = await mkdtemp(path.join(tmpdir(), 'parley-push-'));
    const context = await playwright.chromium.launchPersistentContext(profileDir, {
      ...launchOptions,
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: daemon.address },
      baseURL: parley.url,
    });
    await context.grantPermissions(['notifications'], { origin: parley.url });
    await context.addInitScript(stubPushManager, subscription);
    const blank = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(blank);
    const device = new PushedDevice(context, cdp, daemon, parley.url, profileDir);
    // The service worker's console too: what it said is attached when a test fails.
    context.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') device.log.push(`[${message.worker() === null ? 'page' : 'worker'}] ${message.text()}`);
    });
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      for (const r of registrations) if (r.scopeURL === `${parley.url}/` && !r.isDeleted) device.registrationId = r.registrationId;
    });
    await cdp.send('ServiceWorker.enable');
    return device;
  }

  async open(name: string, url = '/'): Promise<Device> {
    const page = await this.context.newPage();
    const device = new Device(name, this.context, page, undefined);
    await page.goto(url);
    return device;
  }

  /** What the push service received, handed to the service worker the way the browser hands a push. */
  async deliver(json: string): Promise<void> {
    await expect.poll(() => this.registrationId, { message: 'the service worker is registered' }).toBeDefined();
    await this.cdp.send('ServiceWorker.deliverPushMessage', { origin: this.origin, registrationId: this.registrationId ?? '', data: json });
  }

  /** The running service worker (a push starts it). */
  async worker(): Promise<Worker> {
    const running = this.context.serviceWorkers().find((w) => w.url().startsWith(this.origin));
    return running ?? (await this.context.waitForEvent('serviceworker'));
  }

  /** `registration.getNotifications()`, as the service worker sees them. */
  async notifications(): Promise<{ title: string; body: string; tag: string; data: unknown }[]> {
    const worker = await this.worker();
    return worker.evaluate(async () => {
      const registration = (self as unknown as { registration: ServiceWorkerRegistration }).registration;
      return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown }));
    });
  }

  /** A row of the app's IndexedDB, read in the service worker (no page of the app need be open). */
  async row(store: string, key: string): Promise<Record<string, unknown> | undefined> {
    const worker = await this.worker();
    return worker.evaluate(
      async ([name, id]) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open('parley');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
        });
        try {
          return await new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
            const get = db.transaction(name).objectStore(name).get(id);
            get.onsuccess = () => resolve(get.result as Record<string, unknown> | undefined);
            get.onerror = () => reject(get.error ?? new Error('get failed'));
          });
        } finally {
          db.close();
        }
      },
      [store, key] as const,
    );
  }

  /** The notifications on screen (the notification centre's view). */
  visible(): ShownNotification[] {
    return this.daemon.shown.filter((n) => !n.closed);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.daemon.stop();
    await rm(this.profileDir, { recursive: true, force: true });
  }
}

/** The app's pages of this device are closed, and the server sees this device offline: it pushes. */
async function closeApp(parley: Parley, device: PushedDevice, user: string): Promise<void> {
  const pages = device.context.pages().filter((page) => page.url().startsWith(parley.url));
  const id = await pages[0]?.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('parley');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
    });
    const row = await new Promise<{ value?: unknown } | undefined>((resolve) => {
      const get = db.transaction('meta').objectStore('meta').get('device');
      get.onsuccess = () => resolve(get.result as { value?: unknown } | undefined);
    });
    db.close();
    return row?.value;
  });
  for (const page of pages) await page.close();
  await expect
    .poll(async () => ((await parley.admin('GET', `/users/${user}/online`)) as { devices: string[] }).devices.includes(String(id)), { message: `${user}'s device is offline` })
    .toBe(false);
}

/** Push number `count` the service got for `name`, checked against the protocol's schema. */
async function nthPush(service: PushService, name: string, count: number): Promise<{ json: string; payload: PushPayload }> {
  await expect.poll(() => service.to(name).length, { message: `push #${count} reaches the push service` }).toBeGreaterThanOrEqual(count);
  expect(service.errors).toEqual([]);
  const json = service.to(name)[count - 1]?.json ?? '';
  return { json, payload: PushPayload.parse(JSON.parse(json)) };
}

async function turnOnFromPrompt(device: Device): Promise<void> {
  const prompt = device.page.getByRole('region', { name: 'Get notified of new messages' });
  await expect(prompt).toBeVisible();
  await prompt.getByRole('button', { name: 'Turn on' }).click();
  await expect(prompt).toBeHidden();
}

/** `laptop`: Alice's browser install that gets pushes, subscribed at `service` once the app subscribes. */
const pushTest = test.extend<{ service: PushService; laptop: PushedDevice }>({
  service: async ({}, use) => {
    const service = await PushService.start();
    try {
      await use(service);
    } finally {
      await service.close();
    }
  },
  // The server allows this push service's origin (plain http on 127.0.0.1, refused otherwise).
  serverEnv: async ({ service }, use) => {
    await use({ PARLEY_PUSH_ALLOW: service.url });
  },
  laptop: async ({ parley, playwright, launchOptions, service }, use, testInfo) => {
    const laptop = await PushedDevice.launch(parley, playwright, launchOptions, service.subscription('alice-laptop'));
    try {
      await use(laptop);
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('laptop-console', { body: laptop.log.join('\n') || '(nothing)', contentType: 'text/plain' });
        await testInfo.attach('laptop-notifications', { body: JSON.stringify(laptop.daemon.shown, null, 2), contentType: 'application/json' });
      }
      await laptop.close();
    }
  },
});

pushTest('a push to a closed app notifies once per conversation, keeps the messages for offline, and a click opens the conversation', async ({
  parley,
  service,
  laptop,
}) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await laptop.open('alice');
  await alice.signIn('alice');
  await alice.waitForServiceWorker();

  // The first conversation brings the one-time offer; turning it on subscribes this device.
  await bob.startChat('alice', 'Alice');
  await bob.send('Hi Alice!');
  await expect(alice.conversationLink('bob')).toContainText('Hi Alice!');
  // Delivered: the laptop holds the message itself, not only the list's preview.
  await expect(bob.message('Hi Alice!')).toHaveAttribute('data-state', /delivered|read/);
  await turnOnFromPrompt(alice);

  await closeApp(parley, laptop, 'alice');
  await bob.send('Are we still on for Saturday?');
  const first = await nthPush(service, 'alice-laptop', 1);
  expect(first.payload).toMatchObject({
    kind: 'message',
    peer: 'bob',
    sender: { id: 'bob', nickname: 'Bob Chen' },
    message: { type: 'text', preview: 'Are we still on for Saturday?' },
  });
  await laptop.deliver(first.json);

  // Shown by the service worker, and by the desktop.
  await expect.poll(() => laptop.notifications()).toEqual([
    { title: 'Bob Chen', body: 'Are we still on for Saturday?', tag: 'bob', data: { peer: 'bob', messageId: first.payload.message.id, ids: [first.payload.message.id] } },
  ]);
  await expect.poll(() => laptop.visible().map((n) => n.summary)).toEqual(['Bob Chen']);
  expect(laptop.visible()[0]?.body).toContain('Are we still on for Saturday?');
  // Kept for the app: the message (marked as from a push) and its conversation.
  await expect.poll(() => laptop.row('messages', first.payload.message.id)).toMatchObject({
    text: 'Are we still on for Saturday?',
    from: 'bob',
    seq: first.payload.message.seq,
    pushed: true,
  });
  expect(await laptop.row('conversations', 'bob')).toMatchObject({ lastId: first.payload.message.id, preview: 'Are we still on for Saturday?' });

  // A second message replaces the notification: one per conversation.
  await bob.send('I found a great place for brunch 🥞');
  const second = await nthPush(service, 'alice-laptop', 2);
  await laptop.deliver(second.json);
  await expect
    .poll(() => laptop.notifications())
    .toEqual([
      {
        title: 'Bob Chen',
        body: 'I found a great place for brunch 🥞',
        tag: 'bob',
        data: { peer: 'bob', messageId: second.payload.message.id, ids: [first.payload.message.id, second.payload.message.id] },
      },
    ]);
  await expect.poll(() => laptop.visible().map((n) => n.body.includes('brunch'))).toEqual([true]);

  // Opened with no network, the app shows what the pushes brought.
  await laptop.context.setOffline(true);
  const offline = await laptop.open('alice-offline');
  await expect(offline.offlineBanner()).toBeVisible();
  await expect(offline.conversationLink('bob')).toContainText('I found a great place for brunch 🥞');
  await expect(offline.unreadBadge('bob', 3)).toBeVisible();

  // A click on the notification, with the app open on its list: the conversation opens in that window.
  const shown = laptop.visible()[0];
  expect(shown).toBeDefined();
  laptop.daemon.click(shown?.id ?? 0);
  await offline.expectConversationOpen('bob', 'Bob Chen');
  await expect(offline.messageTexts()).toHaveText(['Hi Alice!', 'Are we still on for Saturday?', 'I found a great place for brunch 🥞']);
  await expect.poll(() => laptop.notifications()).toEqual([]);

  // Back online, sync replaces the pushed rows: the same messages, once each.
  await laptop.context.setOffline(false);
  await expect(offline.offlineBanner()).toBeHidden();
  await expect.poll(async () => (await laptop.row('messages', second.payload.message.id))?.['pushed']).toBeUndefined();
  await expect(offline.messageTexts()).toHaveText(['Hi Alice!', 'Are we still on for Saturday?', 'I found a great place for brunch 🥞']);

  // A click with no window open opens one at the conversation.
  await closeApp(parley, laptop, 'alice');
  await bob.send('See you at 11!');
  const third = await nthPush(service, 'alice-laptop', 3);
  await laptop.deliver(third.json);
  await expect.poll(() => laptop.visible().map((n) => n.summary)).toEqual(['Bob Chen']);
  const opened = laptop.context.waitForEvent('page');
  laptop.daemon.click(laptop.visible()[0]?.id ?? 0);
  const page: Page = await opened;
  const reopened = new Device('alice-reopened', laptop.context, page, undefined);
  await reopened.expectConversationOpen('bob', 'Bob Chen');
  await expect(reopened.message('See you at 11!')).toBeVisible();
});

pushTest('a recall takes its message out of the notification, and closes it when it was the only one', async ({ parley, service, laptop }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await laptop.open('alice');
  await alice.signIn('alice');
  await alice.waitForServiceWorker();
  await bob.startChat('alice', 'Alice');
  await bob.send('Hi Alice!');
  await turnOnFromPrompt(alice);

  await closeApp(parley, laptop, 'alice');
  await bob.send('Call me when you can');
  await bob.send('Oops, wrong chat');
  const first = await nthPush(service, 'alice-laptop', 1);
  const second = await nthPush(service, 'alice-laptop', 2);
  const [callMe, oops] = [first.payload.message.id, second.payload.message.id];
  // One after the other, as pushes arrive: Chromium's Linux notification bridge loses track of a
  // notification replaced before the desktop answered its first Notify (a browser quirk, not the app's).
  await laptop.deliver(first.json);
  await expect.poll(() => laptop.visible().map((n) => n.body.includes('Call me when you can'))).toEqual([true]);
  await laptop.deliver(second.json);
  await expect.poll(async () => (await laptop.notifications())[0]?.data).toEqual({ peer: 'bob', messageId: oops, ids: [callMe, oops] });

  await parley.admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: oops });
  const recall = await nthPush(service, 'alice-laptop', 3);
  expect(recall.payload).toMatchObject({ kind: 'recall', peer: 'bob', message: { id: oops } });
  expect(recall.payload.message.preview).toBeUndefined();
  await laptop.deliver(recall.json);
  await expect.poll(() => laptop.notifications()).toEqual([{ title: 'Bob Chen', body: 'Message recalled', tag: 'bob', data: { peer: 'bob', messageId: callMe, ids: [callMe] } }]);
  // The recalled message leaves the device's store; the conversation says what happened.
  await expect.poll(() => laptop.row('messages', oops)).toBeUndefined();
  expect(await laptop.row('conversations', 'bob')).toMatchObject({ preview: 'Message recalled' });

  await parley.admin('POST', '/messages/recall', { a: 'alice', b: 'bob', id: callMe });
  await laptop.deliver((await nthPush(service, 'alice-laptop', 4)).json);
  await expect.poll(() => laptop.notifications()).toEqual([]);
  await expect.poll(() => laptop.visible()).toEqual([]);
});

pushTest('a muted conversation shows muted on all the user’s devices and sends no push; with previews off a push carries no text', async ({
  parley,
  service,
  laptop,
}) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob Chen');
  await parley.signup('carol', 'Carol Diaz');
  const bob = await parley.signedIn('bob', 'bob');
  const carol = await parley.signedIn('carol', 'carol');
  const alice = await laptop.open('alice');
  await alice.signIn('alice');
  await alice.waitForServiceWorker();
  const phone = await parley.signedIn('alice-phone', 'alice');
  await carol.startChat('alice', 'Alice');
  await carol.send('Lunch on Friday?');
  await bob.startChat('alice', 'Alice');
  await bob.send('Hi Alice!');

  // Notifications on, from Settings this time (the offer stays unanswered).
  await alice.page.getByRole('button', { name: 'Settings' }).click();
  const settings = alice.page.getByRole('dialog', { name: 'Settings' });
  const notifications = settings.getByRole('switch', { name: 'Message notifications' });
  await expect(notifications).not.toBeChecked();
  await expect(settings.getByRole('switch', { name: 'Message previews' })).toBeChecked();
  await notifications.click();
  await expect(notifications).toBeChecked();
  await settings.getByRole('button', { name: 'Done' }).click();
  await expect(alice.page.getByRole('region', { name: 'Get notified of new messages' })).toBeHidden();

  // Mute Carol: the list says so here and on Alice's phone (the setting syncs through the server).
  await alice.openConversation('carol', 'Carol Diaz');
  await alice.page.getByRole('button', { name: 'More options' }).click();
  const mute = alice.page.getByRole('menuitemcheckbox', { name: 'Mute notifications' });
  await expect(mute).toHaveAttribute('aria-checked', 'false');
  await mute.click();
  await expect(alice.page.getByRole('img', { name: 'Muted' })).toBeVisible();
  await alice.page.getByRole('button', { name: 'More options' }).click();
  await expect(mute).toHaveAttribute('aria-checked', 'true');
  await alice.page.keyboard.press('Escape');
  await expect(alice.conversationLink('carol').getByText('Muted', { exact: true })).toHaveCount(1);
  await expect(alice.conversationLink('bob').getByText('Muted', { exact: true })).toHaveCount(0);
  await expect(phone.conversationLink('carol').getByText('Muted', { exact: true })).toHaveCount(1);

  // The laptop closed: Carol's message (accepted first) brings no push, Bob's does.
  await closeApp(parley, laptop, 'alice');
  await carol.send('Are you there?');
  await expect(carol.message('Are you there?')).toHaveAttribute('data-state', /sent|delivered|read/);
  await bob.send('Ping');
  const push = await nthPush(service, 'alice-laptop', 1);
  expect(push.payload).toMatchObject({ peer: 'bob', message: { preview: 'Ping' } });
  expect(service.to('alice-laptop')).toHaveLength(1);

  // Previews off: the next push says who, not what.
  const again = await laptop.open('alice-again');
  await again.page.getByRole('button', { name: 'Settings' }).click();
  const previews = again.page.getByRole('dialog', { name: 'Settings' }).getByRole('switch', { name: 'Message previews' });
  await expect(again.page.getByRole('dialog', { name: 'Settings' }).getByRole('switch', { name: 'Message notifications' })).toBeChecked();
  await previews.click();
  await expect(previews).not.toBeChecked();
  await closeApp(parley, laptop, 'alice');
  await bob.send('The code for the door is 4711');
  const quiet = await nthPush(service, 'alice-laptop', 2);
  expect(quiet.payload.message.preview).toBeUndefined();
  expect(quiet.json).not.toContain('4711');
  await laptop.deliver(quiet.json);
  await expect.poll(async () => (await laptop.notifications()).map((n) => n.body)).toEqual(['New message']);
  // No text, no message row; the conversation still counts it.
  expect(await laptop.row('messages', quiet.payload.message.id)).toBeUndefined();
  await expect.poll(() => laptop.row('conversations', 'bob')).toMatchObject({ lastId: quiet.payload.message.id, preview: 'New message' });
});

test('in a browser that cannot subscribe, turning notifications on says so and leaves them off; the offer is made once', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.context.grantPermissions(['notifications'], { origin: parley.url });
  await alice.waitForServiceWorker();

  // No conversation yet: nothing to be notified of.
  const offer = alice.page.getByRole('region', { name: 'Get notified of new messages' });
  await expect(alice.page.getByText('Start a chat: enter a user id')).toBeVisible();
  await expect(offer).toBeHidden();
  await bob.startChat('alice', 'Alice');
  await bob.send('Hi Alice!');
  await expect(offer).toBeVisible();
  // A second tab of the same device offers it too, until it is answered in either.
  const tab = await alice.context.newPage();
  await tab.goto('/');
  const tabOffer = tab.getByRole('region', { name: 'Get notified of new messages' });
  await expect(tabOffer).toBeVisible();

  // This headless Chromium has no push service: subscribe fails (or would hang; the app does not wait forever).
  await offer.getByRole('button', { name: 'Turn on' }).click();
  await expect(offer.getByRole('alert')).toHaveText('Notifications are not available in this browser.');
  await offer.getByRole('button', { name: 'Close' }).click();
  await expect(offer).toBeHidden();
  // Dismissed on this device: the other tab's card goes too, without a reload.
  await expect(tabOffer).toBeHidden();
  await tab.close();
  await alice.page.reload();
  await expect(alice.conversationLink('bob')).toContainText('Hi Alice!');
  await expect(offer).toBeHidden();

  await alice.page.getByRole('button', { name: 'Settings' }).click();
  const settings = alice.page.getByRole('dialog', { name: 'Settings' });
  const toggle = settings.getByRole('switch', { name: 'Message notifications' });
  await expect(toggle).toBeEnabled();
  await toggle.click();
  await expect(settings.getByRole('alert')).toHaveText('Notifications are not available in this browser.');
  await expect(toggle).not.toBeChecked();
  // Keyboard: the dialog's controls are reachable and Escape closes it.
  await alice.page.keyboard.press('Escape');
  await expect(settings).toBeHidden();
});

pushTest('signing out unsubscribes the device: it gets no push until it subscribes again', async ({ parley, service, laptop }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob Chen');
  const bob = await parley.signedIn('bob', 'bob');
  const alice = await laptop.open('alice');
  await alice.signIn('alice');
  await alice.waitForServiceWorker();
  await bob.startChat('alice', 'Alice');
  await bob.send('Hi Alice!');
  await turnOnFromPrompt(alice);
  const held = (): Promise<string | null> => alice.page.evaluate(() => localStorage.getItem('e2e.pushSubscription'));
  expect(await held()).not.toBeNull();

  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  await alice.page.getByRole('dialog', { name: 'Sign out?' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(alice.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await held()).toBeNull();
  await closeApp(parley, laptop, 'alice');
  await bob.send('Are you there?');
  await expect(bob.message('Are you there?')).toHaveAttribute('data-state', /sent|delivered|read/);

  // Signed in again and subscribed from Settings: the next message is the first push.
  const again = await laptop.open('alice-again');
  await again.signIn('alice');
  await again.page.getByRole('button', { name: 'Settings' }).click();
  const toggle = again.page.getByRole('dialog', { name: 'Settings' }).getByRole('switch', { name: 'Message notifications' });
  await expect(toggle).not.toBeChecked();
  await toggle.click();
  await expect(toggle).toBeChecked();
  await closeApp(parley, laptop, 'alice');
  await bob.send('Now?');
  const push = await nthPush(service, 'alice-laptop', 1);
  expect(push.payload.message.preview).toBe('Now?');
  expect(service.to('alice-laptop')).toHaveLength(1);
});
