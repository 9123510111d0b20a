/**
 * Settings → Account (issue 17), as people see it, two users × two devices:
 * alice deletes her account on one device; her other device is signed out;
 * bob's two devices show her messages as deleted (recalled) and his own
 * stay; the text of her messages is gone from the server's files and from
 * bob's IndexedDB (searched as the recall spec searches: it first finds the
 * word in both places); her id cannot be signed up again, and the sign-up
 * says why.
 * "Download my data" saves one zip with her messages (read back here).
 */
import { readFile } from 'node:fs/promises';
import { strFromU8, unzipSync } from 'fflate';
import { errorMessage } from '@parley/protocol';
import { type Device, expect, PASSWORD, test } from '../fixtures.ts';
import { filesHolding, idbHits } from '../forensics.ts';

async function openAccount(device: Device): Promise<void> {
  await device.page.getByRole('button', { name: 'Settings' }).click();
  const settings = device.page.getByRole('dialog', { name: 'Settings' });
  await expect(settings.getByRole('heading', { name: 'Account' })).toBeVisible();
}

const uniqueWord = (): string => `zq${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}x`;

test('deleting an account signs out its other device, shows its messages as deleted on both of the peer’s devices, and keeps the id from being taken again', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice1 = await parley.signedIn('alice-1', 'alice');
  const alice2 = await parley.signedIn('alice-2', 'alice');
  const bob1 = await parley.signedIn('bob-1', 'bob');
  const bob2 = await parley.signedIn('bob-2', 'bob');
  const word = uniqueWord();

  await alice1.startChat('bob', 'Bob');
  await alice1.send(`meet at the ${word} gate`);
  await bob1.openConversation('alice', 'Alice');
  await expect(bob1.message(`meet at the ${word} gate`)).toBeVisible();
  await bob1.send('see you there');
  await bob2.openConversation('alice', 'Alice');
  await expect(bob2.message(`meet at the ${word} gate`)).toBeVisible();
  await expect(alice1.message('see you there')).toBeVisible();
  // The search finds the word where it is, so its absence afterwards means something.
  await expect.poll(() => filesHolding(parley.server.dataDir, word), { message: 'the server’s files hold the word before the deletion' }).not.toEqual([]);
  await expect.poll(() => idbHits(bob1.page, word), { message: 'bob’s IndexedDB holds the word before the deletion' }).toContain('parley/messages');

  await openAccount(alice1);
  await alice1.page.getByRole('button', { name: 'Delete…' }).click();
  const dialog = alice1.page.getByRole('dialog', { name: 'Delete your account?' });
  await expect(dialog).toContainText('every message you sent, in every chat');
  // Escape closes it and nothing happens.
  await expect(dialog.getByLabel('Your password')).toBeFocused();
  await alice1.page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await alice1.page.getByRole('button', { name: 'Delete…' }).click();
  // A wrong password is said in the dialog.
  await dialog.getByLabel('Your password').fill('not my password');
  await dialog.getByRole('button', { name: 'Delete account' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(errorMessage('bad-credentials'));
  await dialog.getByLabel('Your password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Delete account' }).click();

  // This device: the sign-in screen, saying what happened.
  await expect(alice1.page.getByText('Your account was deleted')).toBeVisible();
  await expect(alice1.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  // Her other device is signed out.
  await expect(alice2.page.getByText('This device was signed out. Sign in again.')).toBeVisible();
  // Bob's two devices: her message is deleted, his own stays.
  for (const bob of [bob1, bob2]) {
    await expect(bob.messages().filter({ hasText: 'recalled a message' })).toHaveCount(1);
    await expect(bob.page.getByText(word)).toHaveCount(0);
    await expect(bob.message('see you there')).toBeVisible();
  }
  // No text of hers is left in the server's files (the SQLite WAL included), nor on bob's devices.
  await expect.poll(() => filesHolding(parley.server.dataDir, word), { message: 'no file of the server’s data directory holds the word', timeout: 15_000 }).toEqual([]);
  for (const bob of [bob1, bob2]) await expect.poll(() => idbHits(bob.page, word), { message: 'no store of bob’s IndexedDB holds the word' }).toEqual([]);

  // The id stays taken, and the sign-up says why.
  await alice1.page.getByRole('button', { name: 'New here? Create an account' }).click();
  await alice1.page.getByLabel('User id', { exact: true }).fill('alice');
  await alice1.page.getByLabel('Nickname', { exact: true }).fill('New Alice');
  await alice1.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await alice1.page.getByRole('button', { name: 'Create account' }).click();
  await expect(alice1.page.getByText(errorMessage('account-deleted'))).toBeVisible();
  await expect(alice1.conversationList()).toBeHidden();
});

test('Download my data saves one zip with the messages of every conversation', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  const word = uniqueWord();
  await alice.startChat('bob', 'Bob');
  await alice.send(`the ${word} recipe`);
  await bob.openConversation('alice', 'Alice');
  await bob.send('thanks!');
  await expect(alice.message('thanks!')).toBeVisible();

  await openAccount(alice);
  const saved = alice.page.waitForEvent('download');
  await alice.page.getByRole('button', { name: 'Download', exact: true }).click();
  const download = await saved;
  expect(download.suggestedFilename()).toMatch(/^parley-alice-\d{4}-\d\d-\d\d\.zip$/);
  const file = await download.path();
  const files = unzipSync(new Uint8Array(await readFile(file)));
  expect(Object.keys(files)).toEqual(expect.arrayContaining(['messages.json', 'profile.json', 'contacts.json']));
  const messages = JSON.parse(strFromU8(files['messages.json'] ?? new Uint8Array())) as { conversations: { peer: string; messages: { from: string; body?: { text?: string }[] }[] }[] };
  const withBob = messages.conversations.find((c) => c.peer === 'bob');
  expect(withBob?.messages.map((m) => [m.from, m.body?.[0]?.text])).toEqual([
    ['alice', `the ${word} recipe`],
    ['bob', 'thanks!'],
  ]);
});
