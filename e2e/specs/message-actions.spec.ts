/**
 * The message menu ("Message actions"): reactions (both sides see the chip,
 * toggling off removes it), replies (the quote shows on both sides and a tap
 * on it jumps to the original), and edits (the peer sees the new text marked
 * "edited"; Escape cancels an edit), an unsent reply kept as a draft, and
 * reactions and edits made offline, which wait on the device (through a
 * reload) and go out when the network returns; on a touch screen a long
 * press opens the menu (a short tap does not).
 */
import type { Page } from '@playwright/test';
import { type Device, expect, PHONE, test } from '../fixtures.ts';


async function pair(parley: import('../fixtures.ts').Parley): Promise<{ alice: Device; bob: Device }> {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');
  return { alice, bob };
}

test('reactions show on both sides, count everyone, and toggle off', async ({ parley }) => {
  const { alice, bob } = await pair(parley);
  await alice.send('Lunch at noon?');
  await bob.openConversation('alice', 'Alice');

  await (await bob.messageMenu('Lunch at noon?')).getByRole('button', { name: 'React with 👍' }).click();
  await expect(bob.message('Lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'true');
  const aliceChip = alice.message('Lunch at noon?').getByRole('button', { name: '👍 1' });
  await expect(aliceChip).toHaveAttribute('aria-pressed', 'false');
  await expect(aliceChip).toHaveAttribute('title', /Bob/);

  // Alice adds hers by tapping the chip; a second emoji gets its own chip.
  await aliceChip.click();
  for (const device of [alice, bob]) await expect(device.message('Lunch at noon?').getByRole('button', { name: '👍 2' })).toHaveAttribute('aria-pressed', 'true');
  await (await alice.messageMenu('Lunch at noon?')).getByRole('button', { name: 'React with ❤️' }).click();
  await expect(bob.message('Lunch at noon?').getByRole('button', { name: '❤️ 1' })).toHaveAttribute('aria-pressed', 'false');

  // Toggling off: Bob's tap takes his back; Alice's last ones leave no chip at all.
  await bob.message('Lunch at noon?').getByRole('button', { name: '👍 2' }).click();
  for (const device of [alice, bob]) await expect(device.message('Lunch at noon?').getByRole('button', { name: '👍 1' })).toBeVisible();
  await expect(bob.message('Lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'false');
  await alice.message('Lunch at noon?').getByRole('button', { name: '👍 1' }).click();
  await alice.message('Lunch at noon?').getByRole('button', { name: '❤️ 1' }).click();
  for (const device of [alice, bob]) await expect(device.message('Lunch at noon?').getByRole('group', { name: 'Reactions' })).toHaveCount(0);

  // On again after off (the same key, written again): seen again.
  await (await bob.messageMenu('Lunch at noon?')).getByRole('button', { name: 'React with 👍' }).click();
  await expect(alice.message('Lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'false');
  await (await bob.messageMenu('Lunch at noon?')).getByRole('button', { name: 'React with 😂' }).click();
  await expect(alice.message('Lunch at noon?').getByRole('button', { name: '😂 1' })).toBeVisible();
  await expect(bob.message('Lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'true');
});

test('More reactions reacts with any emoji from the picker, not into the text; Escape closes it without reacting', async ({ parley }) => {
  const { alice, bob } = await pair(parley);
  await alice.send('Pizza tonight?');
  await bob.openConversation('alice', 'Alice');

  await (await bob.messageMenu('Pizza tonight?')).getByRole('button', { name: 'More reactions' }).click();
  const picker = bob.page.getByRole('dialog', { name: 'React with any emoji' });
  await expect(picker).toBeVisible();
  // Emoji alone: a sticker is no reaction.
  await expect(picker.getByRole('tab')).toHaveCount(0);
  await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('pizza');
  await picker.getByRole('group', { name: 'Search results' }).getByRole('button', { name: '🍕 pizza' }).click();
  await expect(picker).toBeHidden();
  await expect(bob.message('Pizza tonight?').getByRole('button', { name: '🍕 1' })).toHaveAttribute('aria-pressed', 'true');
  await expect(alice.message('Pizza tonight?').getByRole('button', { name: '🍕 1' })).toHaveAttribute('aria-pressed', 'false');
  await expect(bob.composer()).toHaveValue('');

  await (await bob.messageMenu('Pizza tonight?')).getByRole('button', { name: 'More reactions' }).click();
  await expect(picker).toBeVisible();
  await bob.page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(bob.message('Pizza tonight?').getByRole('group', { name: 'Reactions' }).getByRole('button')).toHaveCount(1);
});

test('a reply quotes its message on both sides, and tapping the quote jumps to the original', async ({ parley }) => {
  const { alice, bob } = await pair(parley);
  // A short window, and messages between the original and the reply: the jump moves the list, and Back must move it back.
  await alice.page.setViewportSize({ width: 1280, height: 360 });
  await alice.send('Lunch at noon?');
  await alice.send('Or dinner?');
  for (const text of ['Let me check.', 'The place on Main St?', 'It opens at 11.', 'Booking now.']) await alice.send(text);
  await bob.openConversation('alice', 'Alice');

  await (await bob.messageMenu('Lunch at noon?')).getByRole('button', { name: 'Reply' }).click();
  const bar = bob.page.getByRole('note', { name: /^Replying to Alice: Lunch at noon\?/ });
  await expect(bar).toBeVisible();
  await expect(bob.composer()).toBeFocused();
  await bob.send('Noon works');
  await expect(bar).toHaveCount(0);

  // Each side names the quoted sender as it knows them: Alice is "You" on her own device.
  await expect(bob.message('Noon works').getByRole('button', { name: /^Quoted message from Alice: Lunch at noon\?/ })).toBeVisible();
  const quote = alice.message('Noon works').getByRole('button', { name: /^Quoted message from You: Lunch at noon\?/ });
  await expect(quote).toBeVisible();
  const original = await alice.message('Lunch at noon?').getAttribute('data-id');
  expect(original).toBeTruthy();
  await expect(alice.message('Noon works')).toBeInViewport();
  await quote.click();
  await expect(alice.page).toHaveURL(new RegExp(`/c/bob/m/${original ?? ''}$`));
  await expect(alice.message('Lunch at noon?')).toBeInViewport();
  await expect(alice.message('Noon works')).not.toBeInViewport();
  // One Back returns to where Alice was: the reply she tapped, in the conversation; Forward jumps again.
  await alice.page.goBack();
  await expect(alice.page).toHaveURL(/\/c\/bob$/);
  await expect(alice.message('Noon works')).toBeInViewport();
  await expect(alice.message('Lunch at noon?')).not.toBeInViewport();
  await alice.page.goForward();
  await expect(alice.message('Lunch at noon?')).toBeInViewport();
  await alice.page.goBack();
  await expect(alice.message('Noon works')).toBeInViewport();
  await alice.page.setViewportSize({ width: 1280, height: 720 });

  // Escape closes a reply bar without sending.
  await (await bob.messageMenu('Or dinner?')).getByRole('button', { name: 'Reply' }).click();
  await expect(bob.page.getByRole('note', { name: /^Replying to Alice: Or dinner\?/ })).toBeVisible();
  await bob.composer().press('Escape');
  await expect(bob.page.getByRole('note', { name: /^Replying to/ })).toHaveCount(0);

  // An unsent reply is a draft: text and quote come back when the conversation opens again.
  await (await bob.messageMenu('Or dinner?')).getByRole('button', { name: 'Reply' }).click();
  await bob.composer().fill('Dinner is better');
  await expect
    .poll(() => storedDraft(bob), { message: 'the draft is stored on the device' })
    .toEqual({ text: 'Dinner is better', replies: true });
  await bob.page.reload();
  await expect(bob.composer()).toHaveValue('Dinner is better');
  await expect(bob.page.getByRole('note', { name: /^Replying to Alice: Or dinner\?/ })).toBeVisible();
  await bob.page.getByRole('button', { name: 'Send' }).click();
  const dinner = alice.message('Dinner is better').getByRole('button', { name: /^Quoted message from You: Or dinner\?/ });
  await expect(dinner).toBeVisible();

  // Alice renames herself in Settings. Its notice shows above the open dialog (not under it, nor under its backdrop).
  await alice.page.getByRole('button', { name: 'Settings' }).click();
  const settings = alice.page.getByRole('dialog', { name: 'Settings' });
  await settings.getByLabel('Nickname').fill('Alice Smith');
  await settings.getByRole('button', { name: 'Save' }).click();
  const notice = alice.page.getByRole('alert').filter({ hasText: 'Nickname saved.' });
  await expect(notice).toBeVisible();
  await expect(settings).toBeVisible();
  const onTop = await notice.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && el.contains(hit);
  });
  expect(onTop, 'the notice is the topmost thing where it shows').toBe(true);
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);
  await settings.getByRole('button', { name: 'Done' }).click();

  // Bob's quotes name her as she is called now, not as her messages were signed when sent.
  await expect(bob.page.getByRole('heading', { level: 2, name: 'Alice Smith' })).toBeVisible();
  await expect(bob.message('Noon works').getByRole('button', { name: /^Quoted message from Alice Smith: Lunch at noon\?/ })).toBeVisible();

  // On a phone, the header's Back after a jump leaves the conversation in one press (to the list), not to the place before the jump.
  await dinner.click();
  await expect(alice.page).toHaveURL(/\/c\/bob\/m\//);
  await alice.page.setViewportSize(PHONE);
  await alice.page.getByRole('button', { name: 'Back', exact: true }).click();
  await expect.poll(() => new URL(alice.page.url()).pathname).toBe('/');
  await expect(alice.conversationList()).toBeVisible();
});

/** The device's stored draft for its only conversation (the `drafts` table), if any. */
function storedDraft(device: Device): Promise<{ text: string; replies: boolean } | null> {
  return device.page.evaluate(async () => {
    const open = indexedDB.open('parley');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(new Error(String(open.error)));
    });
    const rows = await new Promise<{ text: string; reply?: unknown }[]>((resolve, reject) => {
      const request = db.transaction('drafts').objectStore('drafts').getAll();
      request.onsuccess = () => resolve(request.result as { text: string; reply?: unknown }[]);
      request.onerror = () => reject(new Error(String(request.error)));
    });
    db.close();
    const row = rows[0];
    return row === undefined ? null : { text: row.text, replies: row.reply !== undefined };
  });
}

test('an edit replaces the text on both sides, marked edited; Escape cancels an edit', async ({ parley }) => {
  const { alice, bob } = await pair(parley);
  await alice.send('Lunch at noon?');
  await bob.openConversation('alice', 'Alice');
  await expect(bob.message('Lunch at noon?')).toBeVisible();

  // Only my own text messages offer Edit.
  await expect((await bob.messageMenu('Lunch at noon?')).getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await bob.page.keyboard.press('Escape');

  await (await alice.messageMenu('Lunch at noon?')).getByRole('button', { name: 'Edit' }).click();
  await expect(alice.composer()).toHaveValue('Lunch at noon?');
  await expect(alice.page.getByText('Editing message')).toBeVisible();
  await alice.composer().fill('Lunch at 1pm?');
  await alice.page.getByRole('button', { name: 'Save' }).click();
  await expect(alice.composer()).toHaveValue('');

  for (const device of [alice, bob]) {
    const edited = device.message('Lunch at 1pm?');
    await expect(edited).toBeVisible();
    await expect(edited).toContainText('edited');
    await expect(device.message('Lunch at noon?')).toHaveCount(0);
  }

  // A second edit wins over the first; Escape leaves the message as it was and the field as before.
  await alice.composer().fill('half-typed');
  await (await alice.messageMenu('Lunch at 1pm?')).getByRole('button', { name: 'Edit' }).click();
  await expect(alice.composer()).toHaveValue('Lunch at 1pm?');
  await alice.composer().fill('never saved');
  await alice.composer().press('Escape');
  await expect(alice.composer()).toHaveValue('half-typed');
  await expect(alice.page.getByText('Editing message')).toHaveCount(0);
  await (await alice.messageMenu('Lunch at 1pm?')).getByRole('button', { name: 'Edit' }).click();
  await alice.composer().fill('Lunch at 2pm!');
  await alice.composer().press('Enter');
  await expect(bob.message('Lunch at 2pm!')).toContainText('edited');
  await expect(bob.message('never saved')).toHaveCount(0);
});

test('reactions and edits made offline wait on the device, through a reload, and go out when the network returns', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice', { controllableNetwork: true });
  const bob = await parley.signedIn('bob', 'bob');
  await alice.startChat('bob', 'Bob');
  await alice.send('Train at 8');
  await bob.openConversation('alice', 'Alice');
  await bob.send('Great');
  await expect(alice.message('Great')).toBeVisible();
  await alice.waitForServiceWorker();

  await alice.offline();
  await (await alice.messageMenu('Great')).getByRole('button', { name: 'React with 🙏' }).click();
  await (await alice.messageMenu('Train at 8')).getByRole('button', { name: 'Edit' }).click();
  await alice.composer().fill('Train at 8:15');
  await alice.page.getByRole('button', { name: 'Save' }).click();
  // At once on the device, offline.
  await expect(alice.message('Great').getByRole('button', { name: '🙏 1' })).toHaveAttribute('aria-pressed', 'true');
  await expect(alice.message('Train at 8:15')).toContainText('edited');
  expect(await pendingExtras(alice)).toBe(2);

  await alice.page.reload();
  await expect(alice.message('Train at 8:15')).toContainText('edited');
  await expect(alice.message('Great').getByRole('button', { name: '🙏 1' })).toBeVisible();
  await expect(bob.message('Train at 8')).toBeVisible();

  await alice.online();
  await expect(bob.message('Great').getByRole('button', { name: '🙏 1' })).toHaveAttribute('aria-pressed', 'false');
  await expect(bob.message('Train at 8:15')).toContainText('edited');
  await expect.poll(() => pendingExtras(alice), { message: 'the server acknowledged both writes' }).toBe(0);
});

/** How many recalls, edits and reactions wait for the server on the device (the outbox's `extra` entries). */
function pendingExtras(device: Device): Promise<number> {
  return device.page.evaluate(async () => {
    const open = indexedDB.open('parley');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(new Error(String(open.error)));
    });
    const count = await new Promise<number>((resolve, reject) => {
      const request = db.transaction('outbox').objectStore('outbox').index('kind').count('extra');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(new Error(String(request.error)));
    });
    db.close();
    return count;
  });
}

test('on a touch screen a long press on a message opens its menu', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob', { viewport: PHONE, hasTouch: true });
  await alice.startChat('bob', 'Bob');
  await alice.send('Hold me');
  await bob.openConversation('alice', 'Alice');
  // On a touch screen opening a conversation leaves the keyboard down (no focus in the composer).
  await expect(bob.message('Hold me')).toBeVisible();
  await expect(bob.composer()).not.toBeFocused();
  await expectTapTargets(bob.page, 'the conversation');

  const bubble = bob.message('Hold me').locator('.bubble');
  const box = await bubble.boundingBox();
  if (box === null) throw new Error('the bubble has no box');
  // A press held for 800 ms (Chromium's long-press gesture), through the DevTools protocol.
  const cdp = await bob.context.newCDPSession(bob.page);
  await cdp.send('Input.synthesizeTapGesture', { x: box.x + box.width / 2, y: box.y + box.height / 2, duration: 800, gestureSourceType: 'touch' });
  const group = bob.page.getByRole('group', { name: 'Message menu' });
  await expect(group).toBeVisible();
  await expectTapTargets(bob.page, 'the message menu');
  await group.getByRole('button', { name: 'React with 🙏' }).tap();
  await expect(alice.message('Hold me').getByRole('button', { name: '🙏 1' })).toBeVisible();
});

/** UI.md: on a touch screen every control on screen is at least 44×44 px (links inside a message's text excepted). */
async function expectTapTargets(page: Page, screen: string): Promise<void> {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, a[href], [role="switch"], input:not([type="hidden"]), textarea, select')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        const visible = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && getComputedStyle(el).visibility !== 'hidden';
        return visible && el.closest('.text') === null && (r.width < 44 || r.height < 44);
      })
      .map((el) => `${el.getAttribute('aria-label') ?? el.textContent?.trim()} (${Math.round(el.getBoundingClientRect().width)}×${Math.round(el.getBoundingClientRect().height)})`),
  );
  expect(small, `tap targets under 44×44 px in ${screen}`).toEqual([]);
}
