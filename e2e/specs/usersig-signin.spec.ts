/**
 * Sign-in from a link the app's backend opens: `/#usersig=<UserSig>&user=<id>`
 * (the hosted chat service's signature, checked with the key the server was
 * started with) or `/#app-token=<token>`. The link lands on the user's chats
 * with the credential gone from the address; a refused one lands on the
 * sign-in screen, which says why.
 */
import { createHmac } from 'node:crypto';
import { errorMessage } from '@parley/protocol';
import { DESKTOP, expect, PHONE, test } from '../fixtures.ts';
import { hostedUserSig } from '../../sync-server/test/hosted-usersig.ts';

const APP = 1400000001;
const KEY = 'e2e-usersig-secret-key-0123456789';
const APP_SECRET = 'e2e-app-secret-e2e-app-secret-e2e-app';

test.use({ serverEnv: { PARLEY_COMPAT_SDKAPPID: String(APP), PARLEY_COMPAT_SECRET_KEY: KEY, PARLEY_APP_SECRET: APP_SECRET } });

/** The hosted service's published UserSig v2, as an app backend signs it (written apart from the server's). */
const userSig = (id: string, expire = 3600): string => hostedUserSig({ sdkAppId: APP, secretKey: KEY, identifier: id, expire });

/** An app token (HS256, issuer parley-app) as `npm run token` mints it. */
function appToken(user: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256' })}.${part({ iss: 'parley-app', sub: user, iat: now, exp: now + 600 })}`;
  return `${unsigned}.${createHmac('sha256', APP_SECRET).update(unsigned).digest('base64url')}`;
}

test('a UserSig link signs the user in to their chats, and the signature leaves the address', async ({ parley }) => {
  await parley.signup('bob', 'Bob');
  // Imported, as the hosted service's backend imports its users, so that Bob's message has somewhere to go.
  await parley.admin('POST', '/accounts', { accounts: [{ id: 'carol', nickname: 'Carol' }] });
  await parley.admin('POST', '/messages', { from: 'bob', to: 'carol', body: [{ type: 'text', text: 'Welcome over, Carol' }] });

  const device = await parley.device('carol-phone');
  await device.page.goto(`/#usersig=${userSig('carol')}&user=carol`);
  await expect(device.conversationList()).toBeVisible();
  await expect(device.conversationLink('bob')).toContainText('Welcome over, Carol');
  expect(new URL(device.page.url()).hash).toBe('');
  await expect.poll(() => device.page.evaluate(() => (window as unknown as { parley: { user: string | null } }).parley.user)).toBe('carol');

  // The session is stored as a typed sign-in's is: a reload opens the chats again.
  await device.page.reload();
  await expect(device.conversationLink('bob')).toBeVisible();
});

test('a link with a tampered UserSig lands on the sign-in screen, which says why', async ({ parley }) => {
  const sig = userSig('dave');
  const tampered = `${sig.slice(0, 30)}${sig[30] === 'A' ? 'B' : 'A'}${sig.slice(31)}`;
  const device = await parley.device('dave-phone', { viewport: PHONE });
  await device.page.goto(`/#usersig=${tampered}&user=dave`);
  await expect(device.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(device.page.getByRole('status').filter({ hasText: errorMessage('usersig-invalid') })).toBeVisible();
  expect(new URL(device.page.url()).hash).toBe('');
  await expect(device.conversationList()).toBeHidden();
  await device.shot('signin-link-refused-phone');
  await device.page.setViewportSize(DESKTOP);
  await device.shot('signin-link-refused-desktop');
});

test('an app-token link signs a new user in', async ({ parley }) => {
  const device = await parley.device('erin-phone');
  await device.page.goto(`/#app-token=${appToken('erin')}`);
  await expect(device.conversationList()).toBeVisible();
  await expect.poll(() => device.page.evaluate(() => (window as unknown as { parley: { user: string | null } }).parley.user)).toBe('erin');
  expect(new URL(device.page.url()).hash).toBe('');
});

test("a link for another user does not replace the one signed in (that would wipe the device's data): it says so", async ({ parley }) => {
  const device = await parley.device('shared-tablet', { viewport: DESKTOP, colorScheme: 'dark' });
  await device.page.goto(`/#usersig=${userSig('frank')}&user=frank`);
  await expect(device.conversationList()).toBeVisible();
  const notice = device.page.getByRole('alert').filter({ hasText: 'This sign-in link is for another user' });
  // Opened in a new page load, then in the tab already showing the app (the fragment alone changes).
  await device.page.goto(`/contacts#usersig=${userSig('gina')}&user=gina`);
  await expect(notice).toBeVisible();
  await device.page.goto('/');
  await expect(device.conversationList()).toBeVisible();
  await device.page.goto(`/#usersig=${userSig('gina')}&user=gina`);
  await expect(notice).toBeVisible();
  await expect(device.conversationList()).toBeVisible();
  await device.shot('signin-link-other-user-desktop');
  await expect.poll(() => device.page.evaluate(() => (window as unknown as { parley: { user: string | null } }).parley.user)).toBe('frank');
  expect(new URL(device.page.url()).hash).toBe('');
});
