/**
 * A custom system notice sent through the admin API shows in both users'
 * conversation lists and views, as a notice rather than a message bubble.
 */
import type { z } from 'zod';
import type { AdminNotifyBody, BatchResult } from '@parley/protocol';
import { expect, test } from '../fixtures.ts';

test('an admin notice appears for both users, rendered as a system message', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  const body: z.input<typeof AdminNotifyBody> = {
    from: 'alice',
    to: ['bob'],
    kind: 'custom',
    title: 'Scheduled maintenance',
    text: 'Parley restarts tonight at 02:00 UTC.',
  };
  const result = (await parley.admin('POST', '/notifications', body)) as z.infer<typeof BatchResult>;
  expect(result.results).toHaveLength(1);
  expect(result.results[0]?.error).toBeUndefined();

  for (const [device, peer, name] of [
    [bob, 'alice', 'Alice'],
    [alice, 'bob', 'Bob'],
  ] as const) {
    // The list previews the notice's text (and it is nobody's message: no "You:").
    const link = device.conversationLink(peer);
    await expect(link).toContainText(body.text);
    await expect(link).not.toContainText('You:');

    await device.openConversation(peer, name);
    const notice = device.messages().filter({ hasText: body.text });
    await expect(notice).toHaveCount(1);
    await expect(notice).toHaveAttribute('data-type', 'system');
    await expect(notice.getByText('Scheduled maintenance')).toBeVisible();
    await expect(notice.locator('.bubble')).toHaveCount(0);
    await expect(notice).not.toHaveAttribute('data-state');
    await expect(notice.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  }
});
