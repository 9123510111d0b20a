/**
 * Screenshots of a long conversation scrolled up, on a phone (390×844) and a
 * desktop (1280×800), light and dark: date dividers between days and the
 * jump-to-latest button counting the messages that arrived meanwhile.
 * e2e/screenshots/history-<phone|desktop>[-dark].png.
 */
import { DESKTOP, expect, PHONE, test } from '../fixtures.ts';

const DAY = 24 * 60 * 60 * 1000;
const COUNT = 80;

const LINES = [
  'Morning! Did you see the match last night?',
  'I did, what a finish ⚽',
  'Coffee later?',
  'Sure, 4 pm at the usual place',
  'Running 10 minutes late, sorry!',
  'No worries, I grabbed a table by the window',
  'Have you read the book I lent you?',
  'Halfway through, it is great so far 📚',
];

for (const [kind, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test(`a long conversation scrolled up on a ${kind}: date dividers and jump to latest`, async ({ parley }) => {
    await parley.signup('alice', 'Alice Martin');
    await parley.signup('bob', 'Bob Chen');
    // 80 messages over the last 10 days (8 a day, so that every screen crosses a day), ending an hour ago.
    const now = Date.now();
    const messages = Array.from({ length: COUNT }, (_, i) => {
      const ts = now - DAY * 10 + Math.floor((i * (DAY * 10 - 3_600_000)) / COUNT);
      const [from, to] = i % 3 === 0 ? ['alice', 'bob'] : ['bob', 'alice'];
      return { id: `s${i}`, from, to, type: 'text', body: [{ type: 'text', text: LINES[i % LINES.length] }], ts };
    });
    await parley.admin('POST', '/messages/import', { messages });

    for (const colorScheme of ['light', 'dark'] as const) {
      const alice = await parley.signedIn(`alice-${kind}-${colorScheme}`, 'alice', { viewport, colorScheme });
      await alice.openConversation('bob', 'Bob Chen');
      await expect(alice.message(LINES[(COUNT - 1) % LINES.length] ?? '').last()).toBeVisible();
      // Scroll up to the beginning (the jump button shows once the newest is out of view), then three messages arrive.
      // As a person would, keep scrolling up: an older month's segment that loads meanwhile is prepended with the
      // position held, so one scroll to the top lands mid-history when the 10 days cross a month boundary.
      const jump = alice.page.getByRole('button', { name: /^Jump to latest/ });
      await expect(async () => {
        await alice.messageLog().evaluate((log) => log.scrollTo(0, 0));
        await expect(alice.messageLog().getByText('Beginning of conversation')).toBeVisible({ timeout: 1000 });
        await expect(jump).toBeVisible({ timeout: 1000 });
      }).toPass();
      const arriving = Array.from({ length: 3 }, (_, i) => ({
        id: `n-${colorScheme}-${i}`,
        from: 'bob',
        to: 'alice',
        type: 'text',
        body: [{ type: 'text', text: `New one #${i + 1} (${colorScheme})` }],
        ts: Date.now() + i,
      }));
      await parley.admin('POST', '/messages/import', { messages: arriving, live: true });
      await expect(jump).toHaveAccessibleName('Jump to latest, 3 new');
      await expect(alice.messageLog().getByRole('separator').filter({ visible: true }).first()).toBeVisible();
      await expect(alice.syncIndicator()).toBeHidden();
      await alice.shot(`history-${kind}${colorScheme === 'dark' ? '-dark' : ''}`);

      // The button brings the newest into view.
      await jump.click();
      await expect(alice.message(`New one #3 (${colorScheme})`)).toBeVisible();
      await expect(jump).toBeHidden();
    }
  });
}
