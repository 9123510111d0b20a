/**
 * Offline search: a message months old, once on the device, is found by a
 * word of it (the last word typed as a prefix, every word matching) with the
 * network gone, and the result opens the conversation at that message.
 *
 * How the old message gets onto the device: it lives in an old month's
 * segment, and a newer message makes the current month the conversation's
 * newest segment, so neither the inbox nor the background prefetch (newest
 * segments only) brings it. Alice opens the conversation and scrolls to the
 * top, which syncs the older segment (as a person reading back would); then
 * she goes offline.
 */
import { expect, test } from '../fixtures.ts';

const DAY = 24 * 60 * 60 * 1000;
const OLD_TEXT = 'The quokka picnic is at the old harbour, bring lemonade';

test('search finds a word from a message months old while offline, and opens the conversation at it', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const old = (await parley.admin('POST', '/messages', {
    from: 'bob',
    to: 'alice',
    body: [{ type: 'text', text: OLD_TEXT }],
    ts: Date.now() - 150 * DAY,
  })) as { id: string };
  // This month: more than a screenful, so that reading back means scrolling up.
  for (let i = 1; i <= 30; i++) await parley.admin('POST', '/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text: `Plan item ${i}` }] });
  await parley.admin('POST', '/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text: 'Are we still on for Saturday?' }] });

  const alice = await parley.signedIn('alice', 'alice', { controllableNetwork: true });
  await alice.waitForServiceWorker();
  // Every message on the device first (the old one counts too: 32 unread): opened before, the conversation may
  // open at the bottom as they come in.
  await expect(alice.unreadBadge('bob', 32)).toBeVisible();
  await alice.openConversation('bob', 'Bob');
  // 31 unread: the conversation opens at the first of them, and Jump to latest goes down.
  await expect(alice.message('Plan item 1')).toBeVisible();
  await alice.page.getByRole('button', { name: /^Jump to latest/ }).click();
  await expect(alice.message('Are we still on for Saturday?')).toBeVisible();
  // Reading back: scrolling to the top loads the older segment.
  await expect
    .poll(
      async () => {
        await alice.messageLog().evaluate((log) => log.scrollTo({ top: 0 }));
        return alice.message(OLD_TEXT).count();
      },
      { message: 'the months-old message is on the device after scrolling up', timeout: 30_000 },
    )
    .toBeGreaterThan(0);

  await alice.offline();
  await expect(alice.offlineBanner()).toBeVisible();
  await alice.page.goto('/');
  await expect(alice.conversationList()).toBeVisible();

  await alice.page.getByRole('button', { name: 'Search messages' }).click();
  const field = alice.page.getByRole('searchbox', { name: 'Search messages' });
  const results = alice.page.getByRole('region', { name: 'Search results' });
  // Every word must match; the last one is a prefix while typing.
  await field.fill('lemonade quok');
  const hit = results.getByRole('link').filter({ hasText: 'quokka' });
  await expect(hit).toHaveCount(1);
  await expect(hit).toContainText('Bob');
  await expect(hit.locator('mark').first()).toHaveText(/quokka|lemonade/i);
  await field.fill('lemonade zebra');
  await expect(results.getByRole('status')).toHaveText('No messages found for “lemonade zebra”.');
  await field.fill('Quokka');
  await expect(hit).toHaveCount(1);

  await hit.click();
  await expect(alice.page).toHaveURL(new RegExp(`/c/bob/m/${old.id}$`));
  await expect(alice.page.getByRole('heading', { level: 2, name: 'Bob' })).toBeVisible();
  await expect(alice.message(OLD_TEXT)).toBeInViewport();
});
