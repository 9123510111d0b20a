/**
 * Chat between two users, one of them on two devices: every message reaches
 * every other device, and all three show the conversation in the same order
 * (the order the server accepted the messages).
 */
import { expect, test } from '../fixtures.ts';

test('messages and emoji reach every device, in the same order on all of them', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  const alice1 = await parley.signedIn('alice-laptop', 'alice');
  const alice2 = await parley.signedIn('alice-phone', 'alice');
  const bob = await parley.device('bob');
  await bob.signUp('bob', 'Bob');

  // Alice starts the chat from her laptop: on a desktop the cursor is in the composer at once.
  await alice1.startChat('bob', 'Bob');
  await expect(alice1.composer()).toBeFocused();
  await alice1.send('Hi Bob!');

  // Bob sees the new conversation in his list and opens it.
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['Hi Bob!']);
  await bob.send('Hey Alice 👋');

  // Alice's phone has the conversation with both messages.
  await alice2.openConversation('bob', 'Bob');
  await expect(alice2.messageTexts()).toHaveText(['Hi Bob!', 'Hey Alice 👋']);
  await alice2.send('🎉🎉 from my phone');

  await bob.send('Nice 😀 — see you at 8?');
  await alice1.send('Yes! 🍕');

  const conversation = ['Hi Bob!', 'Hey Alice 👋', '🎉🎉 from my phone', 'Nice 😀 — see you at 8?', 'Yes! 🍕'];
  for (const device of [alice1, alice2, bob]) {
    await expect(device.messageTexts(), `${device.name} shows every message once, in order`).toHaveText(conversation);
  }

  // A burst from all three devices at once: whatever order the server picks,
  // every device shows the same one.
  await Promise.all([alice1.send('burst: laptop 1'), bob.send('burst: bob 1'), alice2.send('burst: phone 1')]);
  await Promise.all([alice1.send('burst: laptop 2'), bob.send('burst: bob 2'), alice2.send('burst: phone 2')]);

  await expect
    .poll(async () => (await alice1.texts()).length, { message: 'alice-laptop has all 11 messages' })
    .toBe(11);
  const settled = async (): Promise<boolean> => {
    const [a, b, c] = await Promise.all([alice1.texts(), alice2.texts(), bob.texts()]);
    return a.length === 11 && JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(a) === JSON.stringify(c);
  };
  await expect.poll(settled, { message: 'all three devices show the same 11 messages in the same order' }).toBe(true);
  const final = await alice1.texts();
  expect(final.slice(0, 5)).toEqual(conversation);
  expect([...final.slice(5)].sort()).toEqual(
    ['burst: bob 1', 'burst: bob 2', 'burst: laptop 1', 'burst: laptop 2', 'burst: phone 1', 'burst: phone 2'],
  );
  // Each device's own messages keep their relative order.
  expect(final.indexOf('burst: bob 1')).toBeLessThan(final.indexOf('burst: bob 2'));
  expect(final.indexOf('burst: laptop 1')).toBeLessThan(final.indexOf('burst: laptop 2'));
  expect(final.indexOf('burst: phone 1')).toBeLessThan(final.indexOf('burst: phone 2'));

  // The keyboard: the message list is one tab stop between the header and the composer,
  // the arrow keys and Home/End move between messages, each named by sender, text, time and state.
  const page = alice1.page;
  const emoji = page.getByRole('button', { name: 'Emoji', exact: true });
  await emoji.focus();
  await page.keyboard.press('Shift+Tab');
  await expect(alice1.messageLog()).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(emoji).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Home');
  await expect(alice1.message('Hi Bob!')).toBeFocused();
  await expect(alice1.message('Hi Bob!')).toHaveAccessibleName(/^You: Hi Bob! \d{1,2}[:.]\d\d.* (Delivered|Read)$/);
  await page.keyboard.press('ArrowDown');
  await expect(alice1.message('Hey Alice 👋')).toBeFocused();
  await expect(alice1.message('Hey Alice 👋')).toHaveAccessibleName(/^Bob: Hey Alice 👋 \d{1,2}[:.]\d\d/);
  await page.keyboard.press('ArrowUp');
  await expect(alice1.message('Hi Bob!')).toBeFocused();
  await page.keyboard.press('End');
  await expect(alice1.messages().last()).toBeFocused();
  // Enter opens the focused message's actions; from a message, Tab goes on to the composer.
  await page.keyboard.press('Enter');
  await expect(page.getByRole('group', { name: 'Message menu' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('group', { name: 'Message menu' })).toBeHidden();
  await alice1.messages().last().focus();
  // Through the message's own button (Message actions), then out of the list.
  for (let i = 0; i < 3 && !(await emoji.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(emoji).toBeFocused();
});

test('the Emoji button adds an emoji to the message; emoji alone show larger, links are links, times as the locale writes them', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob', { locale: 'en-US' });

  await alice.startChat('bob', 'Bob');
  await alice.composer().fill('Good morning ');
  await alice.page.getByRole('button', { name: 'Emoji' }).click();
  // The picker offers emoji as buttons named by the emoji itself; pick the first one.
  const choice = alice.page.getByRole('button', { name: /^\p{Extended_Pictographic}/u }).first();
  await expect(choice).toBeVisible();
  await choice.click();
  const text = await alice.composer().inputValue();
  expect(text).toMatch(/^Good morning \p{Extended_Pictographic}/u);
  await alice.page.getByRole('button', { name: 'Send' }).click();

  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText([text]);

  // One to three emoji alone show larger, in the colour emoji font; with words, at text size.
  await alice.send('🎉🍕');
  await expect(bob.message('🎉🍕')).toBeVisible();
  const emojiOnly = bob.message('🎉🍕').locator('.text');
  const withWords = bob.messageTexts().first();
  const fontSize = (l: typeof emojiOnly): Promise<number> => l.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(await fontSize(emojiOnly)).toBeGreaterThanOrEqual(1.8 * (await fontSize(withWords)));
  expect(await emojiOnly.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/^"Noto Color Emoji"/);

  // Links: a closing parenthesis that belongs to the address stays in it; bare domains and e-mail addresses link too.
  await alice.send('Read https://en.wikipedia.org/wiki/Yjs_(software) or example.com, or mail ada@example.org');
  const links = bob.message('Read https://en.wikipedia.org/wiki/Yjs_(software) or example.com, or mail ada@example.org').getByRole('link');
  await expect(links).toHaveCount(3);
  await expect(links.nth(0)).toHaveAttribute('href', 'https://en.wikipedia.org/wiki/Yjs_(software)');
  await expect(links.nth(0)).toHaveText('https://en.wikipedia.org/wiki/Yjs_(software)');
  await expect(links.nth(1)).toHaveAttribute('href', 'https://example.com');
  await expect(links.nth(2)).toHaveAttribute('href', 'mailto:ada@example.org');
  for (const link of await links.all()) {
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  }

  // A message sent at five past a morning hour before ten, today if it has been one (the browser's time zone is this
  // process's): en-US writes "9:05 AM", not "09:05 AM".
  const sent = new Date();
  const hour = Math.min(9, sent.getMinutes() >= 5 ? sent.getHours() : sent.getHours() - 1);
  if (hour < 1) sent.setDate(sent.getDate() - 1);
  sent.setHours(hour < 1 ? 9 : hour, 5, 0, 0);
  await parley.admin('POST', '/messages', { from: 'alice', to: 'bob', body: [{ type: 'text', text: 'Sent at five past' }], ts: sent.getTime() });
  await expect(bob.message('Sent at five past').locator('time')).toHaveText(new RegExp(`^${sent.getHours()}:05\\sAM$`));
});

test('the peer sees "typing…" while a message is being written, in the list and in the open conversation', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  await alice.send('Are you there?');
  // Bob on his conversation list, the conversation not open (a phone): the row says so too.
  await expect(bob.conversationLink('alice')).toContainText('Are you there?');
  await alice.composer().pressSequentially('Let me', { delay: 30 });
  await expect(bob.conversationLink('alice')).toContainText('typing…');
  await alice.composer().fill('');
  await expect(bob.conversationLink('alice')).toContainText('Are you there?');
  await expect(bob.conversationLink('alice')).not.toContainText('typing…');

  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(['Are you there?']);

  await alice.composer().pressSequentially('Let me tell you', { delay: 30 });
  // UI.md: the list shows "typing…" instead of the preview, and so does the open conversation.
  await expect(bob.conversationLink('alice')).toContainText('typing…');
  await expect(bob.page.getByText('typing…').filter({ visible: true }).and(bob.page.locator(':not(nav *)'))).toBeVisible();
});
