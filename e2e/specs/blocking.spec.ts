/**
 * Blocking, end to end. Silent (the default): the blocked sender's message
 * shows as sent and never reaches the blocker. Reject (the install setting):
 * a block made in the UI refuses the blocked user's next message with a plain
 * reason; unblocking in the UI lets "Retry" deliver it.
 */
import { ERROR_MESSAGES } from '@parley/protocol';
import { expect, test } from '../fixtures.ts';

test('in reject mode a blocked sender sees why; after unblock, Retry delivers', async ({ parley }) => {
  await parley.admin('PUT', '/settings', { blocklistMode: 'reject' });
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  await alice.send('hi Bob');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['hi Bob']);

  // Bob blocks Alice from the conversation's menu (not a button of its own in the header), confirming in a dialog.
  await expect(bob.page.getByRole('button', { name: 'Block', exact: true })).toHaveCount(0);
  const more = bob.page.getByRole('button', { name: 'More options' });
  const menu = bob.page.getByRole('menu', { name: 'Options for Alice' });
  await more.click();
  await expect(menu.getByRole('menuitem', { name: 'View profile' })).toBeFocused();
  await bob.page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitemcheckbox', { name: 'Mute notifications' })).toBeFocused();
  await bob.page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'Block', exact: true })).toBeFocused();
  await bob.page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(more).toBeFocused();
  await more.click();
  await menu.getByRole('menuitem', { name: 'Block', exact: true }).click();
  const confirm = bob.page.getByRole('dialog', { name: 'Block Alice?' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Block Alice' }).click();
  await expect(confirm).toBeHidden();
  // The blocklist came back through the inbox document: the menu now offers "Unblock".
  await more.click();
  await expect(menu.getByRole('menuitem', { name: 'Unblock', exact: true })).toBeVisible();
  await bob.page.keyboard.press('Escape');

  // Alice's next message is refused, and says why in plain words, with Retry.
  const text = 'are you there?';
  await alice.send(text);
  const bubble = alice.message(text);
  await expect(bubble).toHaveAttribute('data-state', 'failed');
  await expect(bubble.getByText("You can't message Bob: Bob isn't accepting your messages.")).toBeVisible();
  // The code is for support: in a details line, not in the sentence.
  await expect(bubble.getByText('blocked', { exact: true })).toBeHidden();
  await bubble.getByText('Details', { exact: true }).click();
  await expect(bubble.getByText('blocked', { exact: true })).toBeVisible();
  // It does not echo the protocol's wording ("has blocked you").
  await expect(bubble.getByText(ERROR_MESSAGES.blocked)).toHaveCount(0);
  await expect(bubble.getByRole('button', { name: 'Retry' })).toBeVisible();
  await expect(bob.message(text)).toHaveCount(0);

  // Bob unblocks Alice on the contacts screen.
  await bob.page.getByRole('link', { name: 'Contacts' }).click();
  await expect(bob.page).toHaveURL(/\/contacts$/);
  const blockedList = bob.page.getByRole('list', { name: 'Blocked' });
  await expect(blockedList.getByRole('listitem')).toHaveCount(1);
  await expect(blockedList).toContainText('Alice');
  await blockedList.getByRole('button', { name: 'Unblock Alice' }).click();
  await expect(bob.page.getByText('Nobody is blocked.')).toBeVisible();

  // Alice retries; the message goes out and reaches Bob.
  await bubble.getByRole('button', { name: 'Retry' }).click();
  await expect(alice.message(text)).toHaveAttribute('data-state', /sent|delivered|read/);
  await expect(alice.message(text).getByText("You can't message Bob", { exact: false })).toHaveCount(0);
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['hi Bob', text]);
});

test('by default a blocked sender sees the message as sent, and the blocker never gets it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  const bobSession = await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.startChat('bob', 'Bob');
  await alice.send('hi Bob');
  await expect(alice.message('hi Bob')).toHaveAttribute('data-state', /sent|delivered|read/);
  await parley.userApi(bobSession, 'PUT', '/blocklist/alice');

  const text = 'are you there?';
  await alice.send(text);
  // Acked like any message: "sent", no failure, no reason, no Retry.
  await expect(alice.message(text)).toHaveAttribute('data-state', 'sent');
  await expect(alice.message(text).getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(alice.page.getByText("isn't accepting your messages", { exact: false })).toHaveCount(0);
  // Alice's other device previews what she sent in its conversation list, as for any message.
  const laptop = await parley.signedIn('alice-laptop', 'alice');
  await expect(laptop.conversationLink('bob').locator('.conversation-preview')).toContainText(text);

  const bob = await parley.signedIn('bob', 'bob');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['hi Bob']);
  const history = (await parley.admin('GET', '/history?a=alice&b=bob')) as { messages: { id: string }[] };
  expect(history.messages).toHaveLength(1);
});
