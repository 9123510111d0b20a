/**
 * The server is the authority: a message that skips the client's own check
 * and breaks the rules is refused, shown as failed with its reason, and the
 * device goes on working.
 */
import { ERROR_MESSAGES, LIMITS } from '@parley/protocol';
import { type Device, expect, messageObject, test } from '../fixtures.ts';

/** The failed bubble explains why, in words a person can read. */
async function expectFailedWithReason(device: Device, text: string, reason: string): Promise<void> {
  const bubble = device.message(text);
  await expect(bubble).toHaveCount(1);
  await expect(bubble).toHaveAttribute('data-state', 'failed');
  await expect(bubble.getByRole('button', { name: 'Retry' })).toBeVisible();
  // UI.md: "Not sent — Retry" (failed; tapping explains why).
  const notSent = bubble.getByRole('button', { name: 'Not sent' });
  await expect(notSent).toBeVisible();
  if (!(await bubble.getByText(reason).isVisible())) await notSent.click();
  await expect(bubble.getByText(reason)).toBeVisible();
}

test('refused messages show as failed with the reason, and the device keeps working', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  await alice.send('first, a normal one');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['first, a normal one']);

  // A message that claims to be from Bob, written by Alice's device.
  const forgedText = 'I am definitely Bob';
  await alice.writeUnchecked('bob', messageObject({ from: 'bob', to: 'alice', text: forgedText, nickname: 'Bob' }));
  await expectFailedWithReason(alice, forgedText, ERROR_MESSAGES['not-author']);

  // A text over the 12 KB limit.
  const longText = `too long ${'x'.repeat(LIMITS.bodyBytes + 100)}`;
  await alice.writeUnchecked('bob', messageObject({ from: 'alice', to: 'bob', text: longText, nickname: 'Alice' }));
  await expectFailedWithReason(alice, longText, ERROR_MESSAGES['body-too-long']);
  // So long a bubble is folded, with "Read more" (a button, by keyboard too) to unfold it.
  const readMore = alice.message(longText).getByRole('button', { name: 'Read more' });
  await expect(readMore).toHaveAttribute('aria-expanded', 'false');
  const folded = (await alice.message(longText).boundingBox())?.height ?? 0;
  expect(folded).toBeLessThan(600);
  await readMore.focus();
  await alice.page.keyboard.press('Enter');
  const showLess = alice.message(longText).getByRole('button', { name: 'Show less' });
  await expect(showLess).toHaveAttribute('aria-expanded', 'true');
  await expect.poll(async () => (await alice.message(longText).boundingBox())?.height ?? 0).toBeGreaterThan(2 * folded);
  await showLess.click();
  await expect(readMore).toHaveAttribute('aria-expanded', 'false');

  // The composer does not let such a text go: a counter near the limit, and past it no Send (button or Enter).
  const send = alice.page.getByRole('button', { name: 'Send', exact: true });
  await alice.composer().fill('y'.repeat(LIMITS.bodyBytes - 500));
  await expect(alice.page.getByText(/^\s*4\d\d left\s*$/)).toBeVisible();
  await expect(send).toBeEnabled();
  await alice.composer().fill('y'.repeat(LIMITS.bodyBytes));
  await expect(alice.page.getByText(/Too long to send: \d+ too many/)).toBeVisible();
  await expect(send).toBeDisabled();
  await alice.composer().press('Enter');
  await expect(alice.composer()).toHaveValue('y'.repeat(LIMITS.bodyBytes));
  await expect(alice.message('y'.repeat(LIMITS.bodyBytes))).toHaveCount(0);
  await alice.composer().fill('');
  await expect(alice.page.getByText(/Too long to send/)).toHaveCount(0);

  // The device keeps working: the next message typed in the composer goes through.
  await alice.send('still here?');
  await expect(alice.message('still here?')).toHaveAttribute('data-state', /sent|delivered|read/);
  await expect(bob.messageTexts()).toHaveText(['first, a normal one', 'still here?']);

  // Neither refused message ever reached Bob, and Alice's failed ones stay failed.
  await expect(bob.message(forgedText)).toHaveCount(0);
  await expect(bob.message(longText)).toHaveCount(0);
  await expect(alice.message(forgedText)).toHaveAttribute('data-state', 'failed');
  await expect(alice.message(longText)).toHaveAttribute('data-state', 'failed');

  // And after a reload Bob's history is unchanged and Alice's failed messages are still marked failed.
  await bob.page.reload();
  await bob.expectConversationOpen('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['first, a normal one', 'still here?']);
  await alice.page.reload();
  await alice.expectConversationOpen('bob', 'Bob');
  await expect(alice.message(longText)).toHaveAttribute('data-state', 'failed');
  // The list is virtualised and opens at the bottom, below the 12 KB bubble: scroll up to the other one.
  await expect
    .poll(async () => {
      await alice.messageLog().evaluate((log) => log.scrollTo({ top: 0 }));
      return alice.message(forgedText).count();
    })
    .toBe(1);
  await expect(alice.message(forgedText)).toHaveAttribute('data-state', 'failed');
});
