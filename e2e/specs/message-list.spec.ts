/**
 * The conversation's message list, as drawn and as pressed.
 *
 * Messages sit close together: a global style meant for search results' rows
 * (`.message-row`) once also matched each message's row, giving it a 64 px
 * height and a rule under it.
 *
 * A press on a message reaches it while the message list is scrolling on its
 * own. The list moves without the reader's input often: it keeps its end in
 * view while a picture, a card or a custom message above grows once drawn,
 * and it follows a new message. The virtualiser (virtua) turns pointer events
 * off on its rows while any scroll is under way, so a click or a right click
 * that came then fell through to the log: a download that never began, a red
 * packet that did not open, a menu that did not come (seen in CI runs under
 * load). Here the log is scrolled by script a pixel each frame, as the list
 * scrolls itself, and the mouse is pressed on a message meanwhile.
 */
import type { Page } from '@playwright/test';
import { expect, type Parley, test } from '../fixtures.ts';

const COUNT = 40;

/** Scrolls the log up and down by a pixel every frame until `stopScrolling`: the scrolls the list makes by itself. */
async function startScrolling(page: Page): Promise<void> {
  await page.getByRole('log', { name: 'Messages' }).evaluate((log) => {
    let step = -1;
    let scrolls = 0;
    const w = window as unknown as { stopScrolling?: () => void; scrolls?: () => number };
    log.addEventListener('scroll', () => scrolls++);
    w.scrolls = () => scrolls;
    let frame = requestAnimationFrame(function move() {
      log.scrollTop += step;
      step = -step;
      frame = requestAnimationFrame(move);
    });
    w.stopScrolling = () => cancelAnimationFrame(frame);
  });
  // Under way: scroll events are coming.
  await expect.poll(() => page.evaluate(() => (window as unknown as { scrolls: () => number }).scrolls())).toBeGreaterThan(3);
}

/** Imports COUNT messages between alice and bob, alternating, one a second up to now. */
async function history(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const now = Date.now();
  const messages = Array.from({ length: COUNT }, (_, i) => ({
    id: `m${i + 1}`,
    from: i % 2 === 0 ? 'alice' : 'bob',
    to: i % 2 === 0 ? 'bob' : 'alice',
    type: 'text',
    body: [{ type: 'text', text: `Line ${i + 1}` }],
    ts: now - (COUNT - i) * 1000,
  }));
  expect(((await parley.admin('POST', '/messages/import', { messages })) as { imported: number }).imported).toBe(COUNT);
}

test('messages sit close together, with no rule between them', async ({ parley }) => {
  await history(parley);
  const bob = await parley.signedIn('bob', 'bob');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.message(`Line ${COUNT}`)).toBeVisible();
  // The last six messages: the space from each bubble to the next, and whether any box in a message draws a rule across it.
  const seen = await bob.messages().evaluateAll((articles) =>
    articles.slice(-6).map((article, i, all) => {
      const bubble = (el: Element | undefined): DOMRect | undefined => el?.querySelector('.bubble')?.getBoundingClientRect();
      const next = bubble(all[i + 1]);
      const rule = [article, ...article.querySelectorAll('*')].some((el) => parseFloat(getComputedStyle(el).borderBottomWidth) > 0 && el.getBoundingClientRect().width > 200);
      return { gap: next === undefined ? 0 : next.top - (bubble(article)?.bottom ?? 0), rule };
    }),
  );
  expect(seen).toHaveLength(6);
  for (const { gap, rule } of seen) {
    expect(rule, 'no rule under a message').toBe(false);
    expect(gap, 'the space between two messages').toBeLessThan(16);
  }
});

test('a click and a right click on a message reach it while the list is scrolling by itself', async ({ parley }) => {
  await history(parley);
  const bob = await parley.signedIn('bob', 'bob');
  await bob.openConversation('alice', 'Alice');
  const last = bob.message(`Line ${COUNT - 1}`);
  await expect(last).toBeVisible();
  await expect.poll(() => bob.messageLog().evaluate((log) => log.scrollHeight > log.clientHeight), { message: 'the log scrolls' }).toBe(true);

  // A right click on the bubble opens the message's menu.
  const bubble = await last.locator('.bubble').boundingBox();
  expect(bubble).not.toBeNull();
  await startScrolling(bob.page);
  await bob.page.mouse.click((bubble?.x ?? 0) + 12, (bubble?.y ?? 0) + (bubble?.height ?? 0) / 2, { button: 'right' });
  const menu = bob.page.getByRole('group', { name: 'Message menu' });
  await expect(menu).toBeVisible();
  await bob.page.keyboard.press('Escape');
  await expect(menu).toBeHidden();

  // A click on its actions button (shown on hover) opens it too.
  // (The mouse, not a locator's hover: the message moves by a pixel each frame, so it is never "stable".)
  await bob.page.mouse.move((bubble?.x ?? 0) + 12, (bubble?.y ?? 0) + (bubble?.height ?? 0) / 2);
  const toggle = await last.getByRole('button', { name: 'Message actions' }).boundingBox();
  expect(toggle).not.toBeNull();
  await bob.page.mouse.click((toggle?.x ?? 0) + (toggle?.width ?? 0) / 2, (toggle?.y ?? 0) + (toggle?.height ?? 0) / 2);
  await expect(menu).toBeVisible();
  await bob.page.evaluate(() => (window as unknown as { stopScrolling: () => void }).stopScrolling());
});
