/** A device signed in later gets the conversation list and the whole history from the server. */
import { expect, test } from '../fixtures.ts';

test('a new device of a user shows the conversation list and the whole history', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  await parley.signup('carol', 'Carol');
  const alice = await parley.signedIn('alice-laptop', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  const history: string[] = [];
  await alice.startChat('bob', 'Bob');
  for (let i = 1; i <= 4; i++) {
    await alice.send(`alice → bob #${i}`);
    history.push(`alice → bob #${i}`);
  }
  await bob.openConversation('alice', 'Alice');
  for (let i = 1; i <= 4; i++) {
    await bob.send(`bob → alice #${i} 🙂`);
    history.push(`bob → alice #${i} 🙂`);
  }
  await alice.send('last word');
  history.push('last word');
  await expect(bob.messageTexts()).toHaveText(history);

  // A second conversation, so the list has more than one entry.
  await alice.startChat('carol', 'Carol');
  await alice.send('Hello Carol');

  // Later, Alice signs in on a new device.
  const tablet = await parley.signedIn('alice-tablet', 'alice');
  await expect(tablet.conversationLink('bob')).toContainText('Bob');
  await expect(tablet.conversationLink('carol')).toContainText('Carol');

  await tablet.openConversation('bob', 'Bob');
  await expect(tablet.messageTexts()).toHaveText(history);
  // Alice's own messages are shown as hers and accepted (not pending in an outbox).
  for (const text of history) {
    await expect(tablet.message(text)).not.toHaveAttribute('data-state', /pending|failed/);
  }

  await tablet.openConversation('carol', 'Carol');
  await expect(tablet.messageTexts()).toHaveText(['Hello Carol']);
});
