/**
 * Recall: the sender takes a message back within the recall window. Both
 * sides keep only "… recalled a message" (in the bubble and the list, in one
 * wording on every device), and the text is gone from the
 * recipient's IndexedDB (every store, the stored Yjs updates decoded as
 * UTF-8 included) and from the server's stored bytes (every file of its data
 * directory, the SQLite WAL included). The test first proves it can find the
 * word in both places, so its absence afterwards means something.
 *
 * After the window (a server started with PARLEY_RECALL_WINDOW_MS=1500) the
 * server refuses the recall: the sender sees why, and nothing is lost.
 */
import type { Locator } from '@playwright/test';
import { errorMessage } from '@parley/protocol';
import { type Device, expect, test } from '../fixtures.ts';
import { filesHolding, idbHits } from '../forensics.ts';

async function openMenu(device: Device, text: string): Promise<void> {
  const message = device.message(text);
  await message.hover();
  await message.getByRole('button', { name: 'Message actions' }).click();
}

const uniqueWord = (): string => `zq${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}x`;

test('a recall leaves a notice on both sides and erases the text from the recipient’s IndexedDB and the server’s bytes', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  const word = uniqueWord();
  const text = `the code is ${word} keep it`;

  await alice.startChat('bob', 'Bob');
  // Typed slowly enough for its draft to be saved (and synced to the server's prefs document) before it is sent:
  // the recall must erase the draft's bytes too, on the device and on the server.
  await alice.composer().fill(text);
  await expect.poll(() => idbHits(alice.page, word), { message: 'the draft is saved' }).toContain('parley/drafts');
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(alice.composer()).toHaveValue('');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.message(text)).toBeVisible();

  // The search can find the word where it is.
  await expect.poll(() => idbHits(bob.page, word), { message: 'bob’s IndexedDB holds the word before the recall' }).toContain('parley/messages');
  expect((await idbHits(bob.page, word)).some((h) => h.startsWith('parley/updates'))).toBe(true);
  await expect.poll(() => filesHolding(parley.server.dataDir, word), { message: 'the server’s files hold the word before the recall' }).not.toEqual([]);

  await openMenu(alice, text);
  await alice.page.getByRole('button', { name: 'Recall' }).click();
  const confirm = alice.page.getByRole('dialog', { name: 'Recall this message?' });
  await expect(confirm).toContainText('It will be removed for everyone.');
  await confirm.getByRole('button', { name: 'Recall' }).click();

  await expect(alice.messages().filter({ hasText: 'You recalled a message' })).toBeVisible();
  await expect(bob.messages().filter({ hasText: 'Alice recalled a message' })).toBeVisible();
  await expect(alice.page.getByText(word)).toHaveCount(0);
  await expect(bob.page.getByText(word)).toHaveCount(0);

  await expect.poll(() => idbHits(bob.page, word), { message: 'no store of bob’s IndexedDB holds the word' }).toEqual([]);
  await expect.poll(() => idbHits(alice.page, word), { message: 'no store of alice’s IndexedDB holds the word' }).toEqual([]);
  await expect.poll(() => filesHolding(parley.server.dataDir, word), { message: 'no file of the server’s data directory holds the word', timeout: 15_000 }).toEqual([]);

  // One wording everywhere: the list says it as the bubbles do, on the sender's device and on the peer's, once the
  // server's inbox (which says who recalled, for each device to word it) has replaced the device's own row.
  // (A device that only has the server's inbox: state/conversationList.test.ts.)
  const preview = (device: Device, peer: string): Locator => device.conversationLink(peer).locator('.conversation-preview');
  await expect(preview(alice, 'bob')).toHaveText('You recalled a message');
  await expect(preview(bob, 'alice')).toHaveText('Alice recalled a message');

  // The conversation goes on: the recall did not break the document.
  await bob.send('no worries');
  await expect(alice.message('no worries')).toBeVisible();
});

test.describe('after the recall window', () => {
  test.use({ serverEnv: { PARLEY_RECALL_WINDOW_MS: '1500' } });

  test('the server refuses a late recall: the sender sees why and the message stays on both sides', async ({ parley }) => {
    await parley.signup('alice', 'Alice');
    await parley.signup('bob', 'Bob');
    const alice = await parley.signedIn('alice', 'alice');
    const bob = await parley.signedIn('bob', 'bob');
    const text = `late ${uniqueWord()}`;

    await alice.startChat('bob', 'Bob');
    const sentAt = Date.now();
    await alice.send(text);
    await bob.openConversation('alice', 'Alice');
    await expect(bob.message(text)).toBeVisible();
    // This server's window (1.5 s) is shorter than the app's default (2 minutes): the app lets it through, the server decides.
    await expect.poll(() => Date.now() - sentAt > 2000, { message: 'the server’s recall window has passed' }).toBe(true);

    await openMenu(alice, text);
    await alice.page.getByRole('button', { name: 'Recall' }).click();
    await alice.page.getByRole('dialog', { name: 'Recall this message?' }).getByRole('button', { name: 'Recall' }).click();

    await expect(alice.page.getByRole('alert').filter({ hasText: errorMessage('recall-window-passed') })).toBeVisible();
    await expect(alice.message(text)).toBeVisible();
    await expect(alice.messages().filter({ hasText: 'You recalled a message' })).toHaveCount(0);
    await expect(bob.message(text)).toBeVisible();
    await expect(bob.messages().filter({ hasText: 'recalled a message' })).toHaveCount(0);
    // It stays after a reload too: the refused recall is not written again.
    await alice.page.reload();
    await expect(alice.message(text)).toBeVisible();
  });
});
