/**
 * The `parley` fixture: a real server per test (fresh data directory, port 0),
 * users created through the HTTP API, and browser "devices" (one context each)
 * that sign in and act through the UI the way a person would.
 *
 * Specs set up through the API and assert through the UI (STYLE.md, tier 3).
 * Waiting is always on a condition (locator assertions, expect.poll), never on
 * a fixed sleep.
 */
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  test as base,
  expect,
  type Locator,
  type Page,
  type TestInfo,
  type WebSocketRoute,
} from '@playwright/test';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Message, Session } from '@parley/protocol';
import type { AxeResults, RunOptions } from 'axe-core';
import { type ParleyServer, REPO_ROOT, startServer } from './server.ts';
import { ServicesMissing, startCluster } from './cluster/cluster.ts';

/** Where the specs' screenshots go (committed: they show each screen on a phone and a desktop). */
const SCREENSHOTS = path.join(REPO_ROOT, 'e2e', 'screenshots');
/** What the accessibility check of every screenshot holds the app to (WCAG 2.1 A and AA), and what fails it. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa'];
const AXE_FAILS = new Set(['serious', 'critical']);
/**
 * axe-core (minified), read once. It is injected once per screenshot and run in both colour schemes:
 * @axe-core/playwright's AxeBuilder injects the unminified source twice per run, which made each
 * screenshot's check take 3–4 times as long on the two-core machine.
 */
let axeSource: Promise<string> | undefined;

export { expect };

export const PASSWORD = 'correct horse battery';

export type MessageState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;
/** The two sizes every screen is shot at, with the names the screenshots carry. */
export const SIZES = [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const;

export interface DeviceOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** The browser's language (`navigator.language`, Intl's default): the system's unless given. */
  locale?: string;
  /** A touch screen (a phone): long presses, no hover. */
  hasTouch?: boolean;
  /**
   * Route the sync sockets through Playwright so that `offline()` can cut them.
   * `context.setOffline` alone blocks new connections but leaves open
   * WebSockets running (microsoft/playwright#4910), which a real network loss
   * would not.
   */
  controllableNetwork?: boolean;
}

/** Cuts and restores a context's network, open sync sockets included. */
class NetworkSwitch {
  private isOffline = false;
  private readonly sockets = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();

  private constructor(private readonly context: BrowserContext) {}

  static async install(context: BrowserContext): Promise<NetworkSwitch> {
    const network = new NetworkSwitch(context);
    await context.routeWebSocket(/\/sync\//, (ws) => network.route(ws));
    return network;
  }

  private async route(ws: WebSocketRoute): Promise<void> {
    if (this.isOffline) {
      await ws.close({ code: 1006, reason: 'offline' }).catch(() => undefined);
      return;
    }
    this.sockets.add({ page: ws, server: ws.connectToServer() });
  }

  async offline(): Promise<void> {
    this.isOffline = true;
    await this.context.setOffline(true);
    const sockets = [...this.sockets];
    this.sockets.clear();
    for (const { page, server } of sockets) {
      await server.close().catch(() => undefined);
      await page.close({ code: 1006, reason: 'offline' }).catch(() => undefined);
    }
  }

  async online(): Promise<void> {
    this.isOffline = false;
    await this.context.setOffline(false);
  }
}

/** One browser install (a context and its page), driven through the UI. */
export class Device {
  /** Console errors and page errors, attached to the report when a test fails. */
  readonly console: string[] = [];

  constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly network: NetworkSwitch | undefined,
  ) {
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        this.console.push(`[${message.type()}] ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => this.console.push(`[pageerror] ${error.stack ?? error.message}`));
  }

  // ---- sign-in screen ----------------------------------------------------------

  async signIn(user: string, password = PASSWORD): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Parley' })).toBeVisible();
    await this.page.getByLabel('User id', { exact: true }).fill(user);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await expect(this.conversationList()).toBeVisible();
  }

  async signUp(user: string, nickname: string, password = PASSWORD): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Parley' })).toBeVisible();
    await this.page.getByRole('button', { name: 'New here? Create an account' }).click();
    await this.page.getByLabel('User id', { exact: true }).fill(user);
    await this.page.getByLabel('Nickname', { exact: true }).fill(nickname);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByRole('button', { name: 'Create account' }).click();
    await expect(this.conversationList()).toBeVisible();
  }

  // ---- conversation list -------------------------------------------------------

  conversationList(): Locator {
    return this.page.locator('nav[aria-label="Conversations"]');
  }

  conversationLink(peer: string): Locator {
    return this.conversationList().locator(`a[href="/c/${peer}"]`);
  }

  unreadBadge(peer: string, count: number): Locator {
    return this.conversationLink(peer).getByLabel(`${count} unread`, { exact: true });
  }

  /** Starts (or reopens) a chat through "New chat", landing on /c/<peer>. */
  async startChat(peer: string, peerNickname: string): Promise<void> {
    await this.page.getByRole('button', { name: 'New chat' }).click();
    await this.page.getByLabel('User id to chat with', { exact: true }).fill(peer);
    await this.page.getByRole('button', { name: 'Start chat' }).click();
    await this.expectConversationOpen(peer, peerNickname);
  }

  /** Opens a conversation from the list, as a person would. */
  async openConversation(peer: string, peerNickname: string): Promise<void> {
    const link = this.conversationLink(peer);
    await expect(link).toContainText(peerNickname);
    await link.click();
    await this.expectConversationOpen(peer, peerNickname);
  }

  async expectConversationOpen(peer: string, peerNickname: string): Promise<void> {
    await expect(this.page).toHaveURL(new RegExp(`/c/${escapeRegExp(peer)}$`));
    await expect(this.page.getByRole('heading', { level: 2, name: peerNickname })).toBeVisible();
    await expect(this.messageLog()).toBeVisible();
  }

  // ---- conversation view -------------------------------------------------------

  messageLog(): Locator {
    return this.page.getByRole('log', { name: 'Messages' });
  }

  messages(): Locator {
    return this.messageLog().locator('article[data-testid="message"]');
  }

  /** The message bubbles whose text is exactly `text`. */
  message(text: string): Locator {
    return this.messages().filter({ has: this.page.locator('.text').getByText(text, { exact: true }) });
  }

  /** Opens the "Message actions" menu of the message whose text is `text`; resolves to the menu. */
  async messageMenu(text: string): Promise<Locator> {
    const message = this.message(text);
    await message.hover();
    await message.getByRole('button', { name: 'Message actions' }).click();
    const group = this.page.getByRole('group', { name: 'Message menu' });
    await expect(group).toBeVisible();
    return group;
  }

  messageTexts(): Locator {
    return this.messages().locator('.text');
  }

  async texts(): Promise<string[]> {
    return this.messageTexts().allTextContents();
  }

  composer(): Locator {
    return this.page.getByRole('textbox', { name: 'Message' });
  }

  async send(text: string): Promise<void> {
    await this.composer().fill(text);
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect(this.composer()).toHaveValue('');
    await expect(this.message(text).last()).toBeVisible();
  }

  offlineBanner(): Locator {
    return this.page.getByRole('status').filter({ hasText: 'Offline — messages will be sent when you reconnect' });
  }

  /**
   * Writes a message object with the client's local check skipped, so that
   * the server's refusal is what the UI shows.
   */
  async writeUnchecked(peer: string, message: Message): Promise<void> {
    await this.page.evaluate(
      async ([to, value]) => {
        const parley = (window as unknown as { parley?: { dev?: { writeUnchecked?: (p: string, m: unknown) => unknown } } })
          .parley;
        const write = parley?.dev?.writeUnchecked;
        if (write === undefined) throw new Error('window.parley.dev.writeUnchecked is missing');
        await write(to, value);
      },
      [peer, message] as const,
    );
  }

  // ---- network and service worker ----------------------------------------------

  async offline(): Promise<void> {
    if (this.network === undefined) throw new Error(`${this.name} was not created with controllableNetwork`);
    await this.network.offline();
  }

  async online(): Promise<void> {
    if (this.network === undefined) throw new Error(`${this.name} was not created with controllableNetwork`);
    await this.network.online();
  }

  /** Waits until the service worker is active and controls the page (reloading once if needed). */
  async waitForServiceWorker(): Promise<void> {
    await this.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const controlled = (): Promise<boolean> => this.page.evaluate(() => navigator.serviceWorker.controller !== null);
    if (!(await controlled())) {
      await this.page.reload();
      await expect.poll(controlled, { message: 'the service worker controls the page' }).toBe(true);
    }
  }

  /**
   * Records every data-state each message bubble takes from now on, by
   * message id, so that a spec can assert the sequence of states (pending →
   * sent → delivered → read) and not only the last one.
   */
  async recordStates(): Promise<void> {
    await this.page.evaluate(() => {
      const history: Record<string, string[]> = {};
      const note = (el: Element): void => {
        const id = el.getAttribute('data-id');
        const state = el.getAttribute('data-state');
        if (id === null || state === null) return;
        const states = (history[id] ??= []);
        if (states.at(-1) !== state) states.push(state);
      };
      const scan = (): void => document.querySelectorAll('article[data-testid="message"]').forEach(note);
      scan();
      new MutationObserver(scan).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-state', 'data-id'],
      });
      (window as unknown as { __parleyStates: Record<string, string[]> }).__parleyStates = history;
    });
  }

  /** The states recorded since `recordStates`, by message id. */
  async stateHistory(): Promise<Record<string, string[]>> {
    return this.page.evaluate(
      () => (window as unknown as { __parleyStates?: Record<string, string[]> }).__parleyStates ?? {},
    );
  }

  /** UI.md: "a small sync indicator while catching up"; it goes away once caught up. */
  syncIndicator(): Locator {
    return this.page.getByRole('status').filter({ hasText: 'Syncing…' });
  }

  async screenshot(file: string): Promise<void> {
    await this.page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  }

  /**
   * The screen as a person sees it once it has settled, in e2e/screenshots/<name>.png:
   * caught up with the server, every picture loaded, and no row under the pointer.
   */
  async shot(name: string): Promise<void> {
    await expect(this.syncIndicator(), `${this.name} has caught up before the screenshot`).toBeHidden();
    await expect
      .poll(() => this.page.evaluate(() => [...document.images].every((img) => img.complete)), { message: 'every picture loaded' })
      .toBe(true);
    await this.page.mouse.move(0, 0);
    // The check's own time (two axe runs; seconds each on a loaded two-core machine) on top of the test's.
    test.info().setTimeout(test.info().timeout + 20_000);
    const violations = await this.accessibilityViolations();
    await mkdir(SCREENSHOTS, { recursive: true });
    await this.screenshot(path.join(SCREENSHOTS, `${name}.png`));
    expect(violations, `axe: serious or critical accessibility violations on the screen "${name}"`).toEqual([]);
  }

  /**
   * axe-core's serious and critical violations of WCAG 2.1 AA on the screen as it is, in this colour
   * scheme and in the other one (switched with emulateMedia, then switched back), one readable line per
   * element: every screenshot is also an accessibility check of its screen, light and dark.
   */
  async accessibilityViolations(): Promise<string[]> {
    const page = this.page;
    const current = (await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)) ? 'dark' : 'light';
    const found: string[] = [];
    axeSource ??= readFile(path.join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await axeSource);
    // Every rule in the scheme the screen is in; in the other one only the rules that read colours (text
    // contrast, and links told apart from their text): the page's structure, names and roles are the same.
    const everyRule: RunOptions = { runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] };
    const contrastOnly: RunOptions = { runOnly: { type: 'rule', values: ['color-contrast', 'link-in-text-block'] }, resultTypes: ['violations'] };
    const passes: { scheme: 'light' | 'dark'; options: RunOptions }[] = [
      { scheme: current, options: everyRule },
      { scheme: current === 'dark' ? 'light' : 'dark', options: contrastOnly },
    ];
    for (const { scheme, options } of passes) {
      await this.useColorScheme(scheme);
      const results = await page.evaluate(
        (runOptions) => (window as unknown as { axe: { run: (context: Document, options: RunOptions) => Promise<AxeResults> } }).axe.run(document, runOptions),
        options,
      );
      for (const violation of results.violations) {
        if (!AXE_FAILS.has(violation.impact ?? '')) continue;
        for (const node of violation.nodes) {
          const why = (node.failureSummary ?? '').replace(/\s*\n\s*/g, ' ');
          found.push(`[${scheme}] ${violation.id} (${violation.impact}): ${node.target.join(' ')} — ${violation.help}. ${why}`);
        }
      }
    }
    await this.useColorScheme(current);
    return found;
  }

  /** The system colour scheme, once the app's theme follows it (with its colour transitions finished). */
  private async useColorScheme(scheme: 'light' | 'dark'): Promise<void> {
    await this.page.emulateMedia({ colorScheme: scheme });
    const theme = this.page.locator('html');
    // A theme picked by hand does not follow the system: then the check runs twice in it.
    if ((await this.page.evaluate(() => localStorage.getItem('parley.theme'))) === null) {
      await expect(theme, `the app follows the ${scheme} scheme`).toHaveAttribute('data-theme', scheme);
    }
    await this.page.evaluate(() => {
      for (const animation of document.getAnimations()) if (animation instanceof CSSTransition) animation.finish();
    });
  }
}

/** The test's own server, its API, and the devices opened on it. */
export class Parley {
  private readonly devices: Device[] = [];

  constructor(
    readonly server: ParleyServer,
    private readonly browser: Browser,
  ) {}

  get url(): string {
    return this.server.url;
  }

  /** Creates a user through `POST /api/v1/auth/signup`. */
  async signup(user: string, nickname: string, password = PASSWORD): Promise<Session> {
    const response = await fetch(`${this.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password, nickname, device: `e2e-setup-${user}` }),
    });
    const body = (await response.json()) as unknown;
    if (response.status !== 201) {
      throw new Error(`signup ${user}: HTTP ${response.status} ${JSON.stringify(body)}`);
    }
    const session = body as Session;
    expect(session.accessToken, 'signup answers a Session with an access token').toEqual(expect.any(String));
    return session;
  }

  /** Calls the user API (`/api/v1/...`) as the session's user; answers the JSON body. */
  async userApi(session: Session, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', route: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${session.accessToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}/api/v1${route}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    const json = (await response.json()) as unknown;
    if (!response.ok) throw new Error(`${session.user} ${method} ${route}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** The server's admin key, generated into `<dataDir>/admin-key` at first start. */
  async adminKey(): Promise<string> {
    return (await readFile(path.join(this.server.dataDir, 'admin-key'), 'utf8')).trim();
  }

  /** Calls the admin API (`/api/v1/admin/...`) with the admin key; answers the JSON body. */
  async admin(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', route: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'x-admin-key': await this.adminKey() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}/api/v1/admin${route}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    const json = (await response.json()) as unknown;
    if (!response.ok) throw new Error(`admin ${method} ${route}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** A fresh browser install on this server's origin. */
  async device(name: string, options: DeviceOptions = {}): Promise<Device> {
    const contextOptions: BrowserContextOptions = { baseURL: this.url };
    if (options.viewport !== undefined) contextOptions.viewport = options.viewport;
    if (options.colorScheme !== undefined) contextOptions.colorScheme = options.colorScheme;
    if (options.locale !== undefined) contextOptions.locale = options.locale;
    if (options.hasTouch === true) Object.assign(contextOptions, { hasTouch: true, isMobile: true });
    const context = await this.browser.newContext(contextOptions);
    const network = options.controllableNetwork === true ? await NetworkSwitch.install(context) : undefined;
    const device = new Device(name, context, await context.newPage(), network);
    this.devices.push(device);
    return device;
  }

  /** A fresh device, signed in as `user` through the UI. */
  async signedIn(name: string, user: string, options: DeviceOptions = {}): Promise<Device> {
    const device = await this.device(name, options);
    await device.signIn(user);
    return device;
  }

  async dispose(testInfo: TestInfo): Promise<void> {
    const failed = testInfo.status !== testInfo.expectedStatus;
    for (const device of this.devices) {
      if (failed && device.console.length > 0) {
        await testInfo.attach(`console-${device.name}`, { body: device.console.join('\n'), contentType: 'text/plain' });
      }
      await device.context.close().catch(() => undefined);
    }
    if (failed) {
      await testInfo.attach('server-log', { body: this.server.child.output || '(no output)', contentType: 'text/plain' });
    }
    await this.server.dispose();
  }
}

export const test = base.extend<{ parley: Parley; serverEnv: Record<string, string>; cluster: boolean }>({
  /** More server settings for the specs of a file or describe block: `test.use({ serverEnv: {PARLEY_…: '…'} })`. */
  serverEnv: [{}, { option: true }],
  /** Runs the test against a cluster of three processes behind HAProxy (e2e/cluster/cluster.ts) instead of one process: the `cluster` project. */
  cluster: [false, { option: true }],
  parley: async ({ browser, serverEnv, cluster }, use, testInfo) => {
    let server: ParleyServer;
    if (!cluster) server = await startServer(serverEnv);
    else {
      try {
        // Behind one proxy: the client's address is the one HAProxy forwards.
        server = await startCluster({ PARLEY_TRUST_PROXY: '1', ...serverEnv });
      } catch (error) {
        if (!(error instanceof ServicesMissing) || process.env['PARLEY_REQUIRE_SERVICES'] === '1') throw error;
        testInfo.skip(true, error.message);
        return;
      }
    }
    const parley = new Parley(server, browser);
    try {
      await use(parley);
    } finally {
      await parley.dispose(testInfo);
    }
  },
});

/** A message object as the client would write it (for `writeUnchecked`). */
export function messageObject(fields: { from: string; to: string; text: string; nickname: string }): Message {
  const ts = Date.now();
  return {
    id: `e2e${ts.toString(36)}${Math.random().toString(36).slice(2, 10)}`,
    from: fields.from,
    to: fields.to,
    type: 'text',
    body: [{ type: 'text', text: fields.text }],
    ts,
    profile: { nickname: fields.nickname },
  };
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
