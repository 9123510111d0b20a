/**
 * Message actions of issue 17, as a person goes through them, on two users ×
 * two devices: forward (to several conversations at once, marked
 * "Forwarded", media re-used: no upload request, the same media hash, and the
 * new peer can load it), delete for me (gone on both of my devices, kept on
 * the peer's), star and the Starred view (on my other device too, a row opens
 * the conversation at the message), pin (both members see the bar; a click
 * jumps to the message; unpin takes it away), and message info (delivered
 * and read, with times).
 */
import type { Request } from '@playwright/test';
import { type Device, expect, test } from '../fixtures.ts';
import { attachAndSend, canvasPicture, messagesOfType } from '../media.ts';

/** The media hashes a message's pictures load (`/api/v1/media/<hash>`), in order. */
async function hashesOf(message: ReturnType<Device['messages']>): Promise<string[]> {
  await expect(message.locator('img').first()).toHaveAttribute('src', /\/api\/v1\/media\/[0-9a-f]{64}/, { timeout: 30_000 });
  return message.locator('img').evaluateAll((imgs) => imgs.map((img) => /\/api\/v1\/media\/([0-9a-f]{64})/.exec(img.getAttribute('src') ?? '')?.[1] ?? ''));
}

test('forward sends to several conversations at once, marked Forwarded, and keeps the media without a second upload', async ({ parley }) => {
  for (const [user, name] of [['alice', 'Alice'], ['bob', 'Bob'], ['carol', 'Carol'], ['dave', 'Dave']] as const) await parley.signup(user, name);
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob');
  const carol = await parley.signedIn('carol', 'carol');
  for (const [peer, name] of [['carol', 'Carol'], ['dave', 'Dave']] as const) {
    await bob.startChat(peer, name);
    await bob.send(`Hi ${name}`);
  }
  await alice.startChat('bob', 'Bob');
  await attachAndSend(alice, 'Photo', await canvasPicture(alice, 640, 480, 'harbour.png'));
  await expect(messagesOfType(alice, 'image').last()).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 60_000 });

  await bob.openConversation('alice', 'Alice');
  const original = messagesOfType(bob, 'image').last();
  const originalHashes = await hashesOf(original);
  expect(originalHashes.length).toBeGreaterThan(0);

  // Bob forwards alice's photo to carol and dave in one go; his browser uploads nothing.
  const uploads: Request[] = [];
  bob.page.on('request', (request) => {
    if (request.url().includes('/api/v1/uploads')) uploads.push(request);
  });
  await original.hover();
  await original.getByRole('button', { name: 'Message actions' }).click();
  await bob.page.getByRole('group', { name: 'Message menu' }).getByRole('button', { name: 'Forward' }).click();
  const picker = bob.page.getByRole('dialog', { name: 'Forward to…' });
  await expect(picker).toBeVisible();
  await picker.getByRole('searchbox', { name: 'Search conversations' }).fill('car');
  await expect(picker.getByRole('checkbox')).toHaveCount(1);
  await picker.getByRole('checkbox', { name: /Carol/ }).check();
  await picker.getByRole('searchbox', { name: 'Search conversations' }).fill('');
  await picker.getByRole('checkbox', { name: /Dave/ }).check();
  await expect(picker.getByRole('status')).toHaveText('2 selected');
  await picker.getByRole('button', { name: 'Send' }).click();
  await expect(picker).toBeHidden();

  for (const [peer, name] of [['carol', 'Carol'], ['dave', 'Dave']] as const) {
    await bob.openConversation(peer, name);
    const forwarded = messagesOfType(bob, 'image').last();
    await expect(forwarded).toHaveAttribute('data-forwarded', 'true');
    await expect(forwarded.getByText('Forwarded')).toBeVisible();
    await expect(forwarded).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 30_000 });
  }
  expect(uploads.map((r) => `${r.method()} ${r.url()}`)).toEqual([]);

  // Carol, who never had it, sees it forwarded and loads the very same media from the server.
  await carol.openConversation('bob', 'Bob');
  const received = messagesOfType(carol, 'image').last();
  await expect(received.getByText('Forwarded')).toBeVisible();
  expect(await hashesOf(received)).toEqual(originalHashes);
  await expect.poll(() => received.locator('img').first().evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), { timeout: 30_000 }).toBeGreaterThan(0);
  // Bob's other device lists the forwarded copy too.
  await bobLaptop.openConversation('carol', 'Carol');
  await expect(messagesOfType(bobLaptop, 'image').last()).toHaveAttribute('data-forwarded', 'true');
});

test("delete for me hides the message on both of the user's devices and not on the peer's", async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Keep this one');
  await bob.openConversation('alice', 'Alice');
  await bob.send('Delete this for yourself');
  await expect(alice.message('Delete this for yourself')).toBeVisible();
  await aliceLaptop.openConversation('bob', 'Bob');
  await expect(aliceLaptop.message('Delete this for yourself')).toBeVisible();
  await bobLaptop.openConversation('alice', 'Alice');

  await (await alice.messageMenu('Delete this for yourself')).getByRole('button', { name: 'Delete for me' }).click();
  const confirm = alice.page.getByRole('dialog', { name: 'Delete this message for you?' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Delete for me' }).click();

  await expect(alice.message('Delete this for yourself')).toHaveCount(0);
  // The laptop had it on screen: it goes there live, without a reload.
  await expect(aliceLaptop.message('Delete this for yourself')).toHaveCount(0);
  await expect(aliceLaptop.message('Keep this one')).toBeVisible();
  // It was the last message: the list previews the one before it instead.
  await expect(aliceLaptop.conversationLink('bob')).toContainText('Keep this one');
  await expect(aliceLaptop.conversationLink('bob')).not.toContainText('Delete this for yourself');
  // The peer keeps it, on both devices.
  for (const device of [bob, bobLaptop]) await expect(device.message('Delete this for yourself')).toBeVisible();
  // After a reload too.
  await aliceLaptop.page.reload();
  await expect(aliceLaptop.message('Keep this one')).toBeVisible();
  await expect(aliceLaptop.message('Delete this for yourself')).toHaveCount(0);
});

test('a starred message is listed in the Starred view of both devices, and a row opens the conversation at it; unstar removes it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Nothing to see');
  await bob.openConversation('alice', 'Alice');
  await bob.send('The door code is 4711');
  await expect(alice.message('The door code is 4711')).toBeVisible();

  await (await alice.messageMenu('The door code is 4711')).getByRole('button', { name: 'Star', exact: true }).click();
  await expect(alice.message('The door code is 4711')).toHaveAttribute('data-starred', 'true');
  await expect(bob.message('The door code is 4711')).not.toHaveAttribute('data-starred', 'true');

  // The other device: Starred, from the list's header.
  await aliceLaptop.page.getByRole('link', { name: 'Starred messages' }).click();
  await expect(aliceLaptop.page).toHaveURL(/\/starred$/);
  const row = aliceLaptop.page.getByTestId('starred-item');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('The door code is 4711');
  await expect(row).toContainText('Bob');
  await row.click();
  await expect(aliceLaptop.page).toHaveURL(/\/c\/bob\/m\/[A-Za-z0-9_-]+$/);
  await expect(aliceLaptop.message('The door code is 4711')).toBeVisible();
  await expect(aliceLaptop.message('The door code is 4711')).toHaveAttribute('data-starred', 'true');

  // Unstar on the laptop: the phone's Starred view is empty.
  await (await aliceLaptop.messageMenu('The door code is 4711')).getByRole('button', { name: 'Unstar' }).click();
  await alice.page.getByRole('link', { name: 'Starred messages' }).click();
  await expect(alice.page.getByText('No starred messages yet.')).toBeVisible();
});

test('a pin shows a bar at the top of the conversation for both members; a click jumps to the message; unpin removes it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  const bobLaptop = await parley.signedIn('bob-laptop', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Meeting point: north gate');
  for (let i = 1; i <= 3; i++) await alice.send(`filler ${i}`);
  await bob.openConversation('alice', 'Alice');
  await bobLaptop.openConversation('alice', 'Alice');

  await (await bob.messageMenu('Meeting point: north gate')).getByRole('button', { name: 'Pin', exact: true }).click();
  for (const device of [alice, bob, bobLaptop]) {
    const bar = device.page.getByTestId('pinned-bar');
    await expect(bar).toBeVisible();
    await expect(bar).toContainText('Meeting point: north gate');
  }
  await alice.page.getByTestId('pinned-bar').click();
  await expect(alice.page).toHaveURL(/\/c\/bob\/m\/[A-Za-z0-9_-]+$/);
  await expect(alice.message('Meeting point: north gate')).toBeInViewport();

  // Alice may not take bob's pin back (her menu offers Pin, which adds her own); bob unpins his.
  await (await bobLaptop.messageMenu('Meeting point: north gate')).getByRole('button', { name: 'Unpin' }).click();
  for (const device of [alice, bob, bobLaptop]) await expect(device.page.getByTestId('pinned-bar')).toHaveCount(0);
});

test('message info shows when my message was delivered and read', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Did you get this?');
  await expect(alice.message('Did you get this?')).toHaveAttribute('data-state', 'sent');

  const info = alice.page.getByRole('dialog', { name: 'Message info' });
  await (await alice.messageMenu('Did you get this?')).getByRole('button', { name: 'Info' }).click();
  await expect(info).toBeVisible();
  await expect(info.getByTestId('info-sent')).toHaveText(/Today, /);
  await expect(info.getByTestId('info-read')).toHaveText('Not yet');

  // Bob opens the conversation: delivered and read, dated, while the dialog is open.
  await bob.openConversation('alice', 'Alice');
  await expect(info.getByTestId('info-delivered')).toHaveText(/Today, /);
  await expect(info.getByTestId('info-read')).toHaveText(/Today, /);
  await alice.page.keyboard.press('Escape');
  await expect(info).toBeHidden();
});
