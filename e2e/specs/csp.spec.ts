/**
 * The app under its own Content-Security-Policy: served with the policy and
 * the other security headers, it raises no CSP violation while a person
 * signs up, chats, sends a photo, a voice message and a location, and picks
 * an emoji. Every `securitypolicyviolation` event of each page and every
 * console message about a policy is collected; a deliberate inline script
 * shows that the collection would see one.
 */
import type { BrowserContext } from '@playwright/test';
import { type Device, expect } from '../fixtures.ts';
import { attachAndSend, canvasPicture, messagesOfType, recordVoice, sendLocation, withFakeMicrophone as test } from '../media.ts';

/** Collects the CSP violations of every page of `context` (reported through a binding, so navigations keep them). */
async function watchViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding('parleyCspViolation', (_source, text: string) => violations.push(text));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { parleyCspViolation: (text: string) => void }).parleyCspViolation;
      report(`${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return violations;
}

/** Console errors and warnings about the policies (Chromium also logs each violation, and a header it cannot read). */
const policyMessages = (device: Device): string[] => device.console.filter((line) => /Content[- ]Security[- ]Policy|Permissions[- ]Policy|Refused to/i.test(line));

async function expectSent(device: Device, type: string): Promise<void> {
  const newest = device.messages().last();
  await expect(newest).toHaveAttribute('data-type', type);
  await expect(newest).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });
}

test('the app runs under its Content-Security-Policy with no violation: sign-up, chat, photo, voice, location, emoji', async ({ parley }) => {
  test.setTimeout(180_000);
  await parley.signup('bob', 'Bob Chen');
  const alice = await parley.device('alice');
  const aliceViolations = await watchViolations(alice.context);
  await alice.context.grantPermissions(['geolocation'], { origin: parley.url });
  await alice.context.setGeolocation({ latitude: 48.8584, longitude: 2.2945 });

  const response = await alice.page.goto('/');
  const headers = response?.headers() ?? {};
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['permissions-policy']).toContain('microphone=(self)');

  await alice.signUp('alice', 'Alice Martin');
  const bob = await parley.device('bob');
  const bobViolations = await watchViolations(bob.context);
  await bob.signIn('bob');

  // Chatting goes over the sync socket (connect-src 'self' must cover ws: on the same host).
  await alice.startChat('bob', 'Bob Chen');
  await alice.send('Hi Bob!');
  await bob.openConversation('alice', 'Alice Martin');
  await expect(bob.message('Hi Bob!')).toBeVisible();
  await bob.send('Hi Alice, how was the trip?');
  await expect(alice.message('Hi Alice, how was the trip?')).toBeVisible();

  // A photo: previewed from a blob: URL, then served by the server to Bob.
  await attachAndSend(alice, 'Photo', await canvasPicture(alice, 640, 360));
  await expectSent(alice, 'image');
  const picture = messagesOfType(bob, 'image').locator('img');
  await expect.poll(() => picture.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)), { message: 'the picture loads for Bob', timeout: 30_000 }).toBeGreaterThan(0);

  await recordVoice(alice, 1);
  await expectSent(alice, 'voice');
  await sendLocation(alice, 'Meet me here');
  await expectSent(alice, 'location');
  await expect(messagesOfType(bob, 'location')).toBeVisible();

  // The emoji picker (a chunk of its own, loaded on first open).
  await alice.page.getByRole('button', { name: 'Emoji' }).click();
  await alice.page.getByRole('searchbox', { name: 'Search emoji' }).fill('pizza');
  await alice.page.getByRole('group', { name: 'Search results' }).getByRole('button', { name: '🍕 pizza' }).click();
  await expect(alice.composer()).toHaveValue(/🍕/);
  await alice.page.getByRole('button', { name: 'Send' }).click();
  await expect(bob.message('🍕')).toBeVisible();

  expect(aliceViolations).toEqual([]);
  expect(bobViolations).toEqual([]);
  expect(policyMessages(alice)).toEqual([]);
  expect(policyMessages(bob)).toEqual([]);

  // The watch sees a violation when there is one: an inline script is refused.
  await alice.page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true;';
    document.body.append(script);
  });
  await expect.poll(() => aliceViolations.length, { message: 'the inline script is reported' }).toBe(1);
  expect(aliceViolations[0]).toMatch(/^script-src/);
  expect(await alice.page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan)).toBeUndefined();
});
