/**
 * Finding people, as a person does it: searching by name in "New chat"
 * (with a user who hides from search in Settings), starting a chat from a
 * result, and invite links: the QR code one user shows, read by a camera
 * (jsQR on the screenshot's pixels) and opened in a fresh browser that signs
 * up and lands in the chat; on a friends-only server, in a friend request;
 * a revoked or expired link says so, with its code.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import jsQR from 'jsqr';
import type { Session } from '@parley/protocol';
import { type Device, expect, PASSWORD, test } from '../fixtures.ts';

async function openNewChat(device: Device): Promise<void> {
  await device.page.getByRole('button', { name: 'New chat' }).click();
  await expect(device.page.getByRole('combobox', { name: 'User id to chat with' })).toBeFocused();
}

function found(device: Device) {
  return device.page.getByRole('listbox', { name: 'People found' }).getByRole('option');
}

/** Settings → Privacy → "Let people find me". */
function findMeSwitch(device: Device) {
  return device.page.getByRole('switch', { name: 'Let people find me' });
}

/** The text of the QR code on screen, read from a screenshot of it as a camera would: jsQR over its pixels. */
async function readQr(device: Device): Promise<string> {
  const png = await device.page.getByTestId('invite-qr').screenshot();
  const pixels = await device.page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    if (context === null) throw new Error('no 2d canvas');
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height);
    return { width: data.width, height: data.height, rgba: Array.from(data.data) };
  }, png.toString('base64'));
  const code = jsQR(Uint8ClampedArray.from(pixels.rgba), pixels.width, pixels.height);
  if (code === null) throw new Error('no QR code found in the screenshot');
  return code.data;
}

/** Signs up on the invite landing page (the form starts at "Create account" there). */
async function signUpFromInvite(device: Device, user: string, nickname: string): Promise<void> {
  await device.page.getByLabel('User id', { exact: true }).fill(user);
  await device.page.getByLabel('Nickname', { exact: true }).fill(nickname);
  await device.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await device.page.getByRole('button', { name: 'Create account' }).click();
}

test('a search by nickname finds a discoverable user and not a hidden one', async ({ parley }) => {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  await parley.signup('bobby', 'Bobby Tables');

  // Bobby hides from search on one of his devices; his other device shows the setting as he left it.
  const bobby1 = await parley.signedIn('bobby-phone', 'bobby');
  await bobby1.page.getByRole('button', { name: 'Settings' }).click();
  await expect(findMeSwitch(bobby1)).toHaveAttribute('aria-checked', 'true');
  await findMeSwitch(bobby1).click();
  await expect(findMeSwitch(bobby1)).toHaveAttribute('aria-checked', 'false');
  const bobby2 = await parley.signedIn('bobby-laptop', 'bobby');
  await bobby2.page.getByRole('button', { name: 'Settings' }).click();
  await expect(findMeSwitch(bobby2)).toHaveAttribute('aria-checked', 'false');

  const alice = await parley.signedIn('alice-laptop', 'alice');
  await openNewChat(alice);
  await alice.page.getByRole('combobox', { name: 'User id to chat with' }).fill('Bob');
  await expect(found(alice)).toHaveCount(1);
  await expect(found(alice).first()).toContainText('Bob Chen');
  await expect(alice.page.getByRole('listbox', { name: 'People found' })).not.toContainText('Bobby');
  await alice.page.getByRole('combobox', { name: 'User id to chat with' }).fill('Tables');
  await expect(alice.page.getByRole('status').filter({ hasText: 'No one found' })).toBeVisible();
  // His exact id still finds him.
  await alice.page.getByRole('combobox', { name: 'User id to chat with' }).fill('BOBBY');
  await expect(found(alice)).toHaveCount(1);
  await expect(found(alice).first()).toContainText('Bobby Tables');

  // Turned back on (on the other device), the search finds him by name again.
  await findMeSwitch(bobby2).click();
  await expect(findMeSwitch(bobby2)).toHaveAttribute('aria-checked', 'true');
  await alice.page.getByRole('combobox', { name: 'User id to chat with' }).fill('Tables');
  await expect(found(alice)).toHaveCount(1);
  await expect(found(alice).first()).toContainText('Bobby Tables');
});

test('starting a chat from a search result, with the keyboard', async ({ parley }) => {
  await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  await parley.signup('carol', 'Carol Chenoweth');
  const alice = await parley.signedIn('alice-laptop', 'alice');
  const alicePhone = await parley.signedIn('alice-phone', 'alice');
  const bob = await parley.signedIn('bob-phone', 'bob');

  await openNewChat(alice);
  const field = alice.page.getByRole('combobox', { name: 'User id to chat with' });
  await field.fill('chen');
  await expect(found(alice)).toHaveCount(2);
  await field.press('ArrowDown');
  await expect(found(alice).nth(0)).toHaveAttribute('aria-selected', 'true');
  await expect(field).toHaveAttribute('aria-activedescendant', 'person-0');
  await field.press('Enter');
  await alice.expectConversationOpen('bob', 'Bob Chen');
  await alice.send('Found you by name!');
  await expect(bob.conversationLink('alice')).toContainText('Found you by name!');
  await expect(alicePhone.conversationLink('bob')).toContainText('Found you by name!');
});

test('shows 20 people at first and more on request', async ({ parley }) => {
  await parley.signup('alice', 'Alice Martin');
  // Imported by the admin: sign-ups from one address are rate-limited.
  await parley.admin('POST', '/accounts', { accounts: Array.from({ length: 22 }, (_, i) => ({ id: `pal${String(i).padStart(2, '0')}`, nickname: `Pal ${i}` })) });
  const alice = await parley.signedIn('alice-laptop', 'alice');
  await openNewChat(alice);
  await alice.page.getByRole('combobox', { name: 'User id to chat with' }).fill('pal');
  await expect(found(alice)).toHaveCount(20);
  await expect(alice.page.getByRole('status').filter({ hasText: '20+ people found' })).toBeVisible();
  await alice.page.getByRole('button', { name: 'Show more people' }).click();
  await expect(found(alice)).toHaveCount(22);
  await expect(found(alice).last()).toContainText('Pal 21');
  await expect(alice.page.getByRole('button', { name: 'Show more people' })).toBeHidden();
});

test('a QR invite opens a chat on a fresh device', async ({ parley }) => {
  await parley.signup('alice', 'Alice Martin');
  const alice = await parley.signedIn('alice-phone', 'alice');
  await openNewChat(alice);
  await alice.page.getByRole('button', { name: 'Invite someone' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'Invite someone' });
  await expect(dialog.getByRole('img', { name: 'QR code of your invite link' })).toBeVisible();
  const link = await dialog.getByRole('textbox', { name: 'Invite link' }).inputValue();
  expect(link).toMatch(new RegExp(`^${parley.url}/invite/[A-Za-z0-9_-]{32}$`));
  const scanned = await readQr(alice);
  expect(scanned).toBe(link);

  // Someone with no account scans it.
  const dave = await parley.device('dave-phone');
  await dave.page.goto(scanned);
  await expect(dave.page.getByRole('region', { name: 'Invitation' })).toContainText('Alice Martin invited you to chat on Parley');
  await expect(dave.page.getByText('Create an account to chat with Alice Martin.')).toBeVisible();
  await signUpFromInvite(dave, 'dave', 'Dave Park');
  await dave.expectConversationOpen('alice', 'Alice Martin');
  await dave.send('Hi Alice, scanned your code');
  await expect(alice.conversationLink('dave')).toContainText('Hi Alice, scanned your code');

  // The same link, opened by someone who signs in on another device later, opens the chat too.
  await parley.signup('erin', 'Erin Walsh');
  const erin = await parley.device('erin-laptop');
  await erin.page.goto(scanned);
  await expect(erin.page.getByRole('region', { name: 'Invitation' })).toContainText('Alice Martin invited you');
  await erin.page.getByRole('button', { name: 'Have an account? Sign in' }).click();
  await erin.page.getByLabel('User id', { exact: true }).fill('erin');
  await erin.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await erin.page.getByRole('button', { name: 'Sign in' }).click();
  await erin.expectConversationOpen('alice', 'Alice Martin');
});

test('a signed-in user opening an invite link lands in the chat with the inviter', async ({ parley }) => {
  const session: Session = await parley.signup('alice', 'Alice Martin');
  await parley.signup('bob', 'Bob Chen');
  const { token } = (await parley.userApi(session, 'POST', '/invites')) as { token: string };
  const bob = await parley.signedIn('bob-laptop', 'bob');
  await bob.page.goto(`/invite/${token}`);
  await bob.expectConversationOpen('alice', 'Alice Martin');
  await bob.send('Got your link');
  const alice = await parley.signedIn('alice-phone', 'alice');
  await expect(alice.conversationLink('bob')).toContainText('Got your link');
});

test('on a friends-only server an invite sends the inviter a friend request', async ({ parley }) => {
  await parley.admin('PUT', '/settings', { messaging: 'friends' });
  const session: Session = await parley.signup('alice', 'Alice Martin');
  const { token } = (await parley.userApi(session, 'POST', '/invites')) as { token: string };
  const alice = await parley.signedIn('alice-laptop', 'alice');

  const dave = await parley.device('dave-phone');
  await dave.page.goto(`/invite/${token}`);
  await expect(dave.page.getByRole('region', { name: 'Invitation' })).toContainText('Alice Martin invited you');
  await signUpFromInvite(dave, 'dave', 'Dave Park');
  await expect(dave.page).toHaveURL(/\/contacts$/);
  await expect(dave.page.getByText('Friend request sent to Alice Martin. You can chat once they accept.')).toBeVisible();

  await alice.page.getByRole('link', { name: 'Contacts' }).click();
  await alice.page.getByRole('button', { name: 'Accept Dave Park' }).click();
  await expect(alice.page.getByRole('list', { name: 'Friends' })).toContainText('Dave Park');
});

test('a revoked or expired invite link says so, with its code', async ({ parley }) => {
  const session: Session = await parley.signup('alice', 'Alice Martin');
  const alice = await parley.signedIn('alice-laptop', 'alice');
  await openNewChat(alice);
  await alice.page.getByRole('button', { name: 'Invite someone' }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'Invite someone' });
  const revokedLink = await dialog.getByRole('textbox', { name: 'Invite link' }).inputValue();
  await dialog.getByRole('button', { name: 'Revoke link' }).click();
  await expect(dialog.getByRole('status')).toHaveText('Link revoked: it no longer works.');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();

  const visitor = await parley.device('visitor');
  await visitor.page.goto(revokedLink);
  await expect(visitor.page.getByRole('alert')).toHaveText('This invite link does not work: it was revoked or never existed. Ask for a new one.');
  await visitor.page.getByText('Details').click();
  await expect(visitor.page.getByText('Error code: invite-not-found')).toBeVisible();

  // An invite whose time ran out (its expiry moved into the past in the server's database).
  const { id, token } = (await parley.userApi(session, 'POST', '/invites')) as { id: string; token: string };
  const db = new Database(path.join(parley.server.dataDir, 'parley.db'));
  try {
    db.pragma('busy_timeout = 5000');
    expect(db.prepare('UPDATE invites SET expires = 1 WHERE id = ?').run(id).changes).toBe(1);
  } finally {
    db.close();
  }
  await visitor.page.goto(`/invite/${token}`);
  await expect(visitor.page.getByRole('alert')).toHaveText('This invite link has expired. Ask for a new one.');
  await visitor.page.getByText('Details').click();
  await expect(visitor.page.getByText('Error code: invite-expired')).toBeVisible();
});
