/**
 * Screenshots of the conversation list with pinned, muted, draft and
 * archived conversations, its row menu, the Archived list and search results,
 * on a phone (390×844) and a desktop (1280×800), light and dark:
 * e2e/screenshots/list-prefs-*, list-archived-*, list-menu-*, search-*.
 * The light device sets everything through the row menu; the dark one, signed
 * in as the same user, shows it because prefs follow the user.
 */
import { DESKTOP, type Device, expect, type Parley, PHONE, test } from '../fixtures.ts';

const HOUR = 60 * 60 * 1000;

async function populate(parley: Parley): Promise<void> {
  await parley.signup('alice', 'Alice Martin');
  const chats: [string, string, string[]][] = [
    ['bob', 'Bob Chen', ['Hey Alice! Are we still on for Saturday?', 'I found a great place for brunch 🥞']],
    ['carol', 'Carol Diaz', ['Did you get the tickets for the concert? 🎟️']],
    ['dan', 'Dan Okafor', ['Team standup moved to 10:30 tomorrow', 'Agenda: the brunch budget and the new office plants']],
    ['erin', 'Erin Walsh', ['Thanks for the brunch recommendation!']],
    // A very long name and a long message: search results and list rows stay as wide as the screen.
    ['gus', 'Augustin-Maximilian Wolfeschlegelsteinhausenbergerdorff III', [`Brunch menu draft: ${'pancakes, waffles, eggs benedict, '.repeat(8)}https://example.com/menus/${'seasonal-'.repeat(12)}brunch`]],
    ['frank', 'Frank Li', ['Your parcel is at the front desk']],
  ];
  let ts = Date.now() - 20 * HOUR;
  for (const [id, nickname, texts] of chats) {
    await parley.signup(id, nickname);
    for (const text of texts) {
      ts += HOUR;
      await parley.admin('POST', '/messages', { from: id, to: 'alice', body: [{ type: 'text', text }], ts });
    }
  }
}

function rowOf(device: Device, peer: string) {
  return device.conversationList().getByRole('listitem').filter({ has: device.page.locator(`a[href="/c/${peer}"]`) });
}

async function rowAction(device: Device, peer: string, action: string): Promise<void> {
  const row = rowOf(device, peer);
  await row.getByRole('button', { name: 'Conversation actions' }).click();
  await device.page.getByRole('menuitem', { name: action }).click();
}

async function dismissOffer(device: Device): Promise<void> {
  const notNow = device.page.getByRole('button', { name: 'Not now' });
  if (await notNow.isVisible()) await notNow.click();
}

for (const [kind, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test(`conversation list with pins, mutes, drafts and archive, and search, on a ${kind}`, async ({ parley }) => {
    await populate(parley);

    const alice = await parley.signedIn(`alice-${kind}`, 'alice', { viewport });
    await expect(alice.unreadBadge('frank', 1)).toBeVisible();
    await dismissOffer(alice);
    await rowAction(alice, 'carol', 'Pin');
    await rowAction(alice, 'dan', 'Mute');
    await rowAction(alice, 'erin', 'Archive');
    await alice.page.evaluate(() => (window as unknown as { parley: { saveDraft(p: string, d: { text: string }): void } }).parley.saveDraft('bob', { text: 'Sounds perfect, see you at 11' }));
    await expect(alice.conversationLink('bob')).toContainText('Draft: Sounds perfect, see you at 11');
    await expect(alice.conversationList().getByRole('listitem').first()).toContainText('Carol Diaz');
    await expect(alice.page.getByRole('button', { name: 'Archived (1)' })).toBeVisible();
    await alice.shot(`list-prefs-${kind}`);

    await rowOf(alice, 'bob').getByRole('button', { name: 'Conversation actions' }).click();
    await expect(alice.page.getByRole('menu')).toBeVisible();
    await alice.shot(`list-menu-${kind}`);
    await alice.page.keyboard.press('Escape');

    // The new-chat field's placeholder fits in it, whole.
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    const peerField = alice.page.getByRole('combobox', { name: 'User id to chat with' });
    const fits = await peerField.evaluate((input: HTMLInputElement) => {
      const style = getComputedStyle(input);
      const context = document.createElement('canvas').getContext('2d');
      if (context === null) return false;
      context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return context.measureText(input.placeholder).width <= room;
    });
    expect(fits, 'the new-chat placeholder is not cut off').toBe(true);
    await peerField.press('Escape');

    await alice.page.getByRole('button', { name: 'Archived (1)' }).click();
    await expect(alice.conversationLink('erin')).toBeVisible();
    await alice.shot(`list-archived-${kind}`);
    await alice.page.getByRole('button', { name: 'Back to chats' }).click();

    await alice.page.getByRole('button', { name: 'Search messages' }).click();
    await alice.page.getByRole('searchbox', { name: 'Search messages' }).fill('brunch');
    const results = alice.page.getByRole('region', { name: 'Search results' }).getByRole('link');
    await expect(results).toHaveCount(4);
    // No row wider than the screen, whatever the name and message (a 652 px row on a 390 px phone, once).
    for (const row of await results.all()) {
      const right = await row.evaluate((el) => Math.max(...[el, ...el.querySelectorAll('*')].map((e) => e.getBoundingClientRect().right)));
      expect(right, 'a search result row and all it holds end within the screen').toBeLessThanOrEqual(viewport.width);
    }
    await expect(results.first().locator('time')).toBeInViewport({ ratio: 1 });
    expect(await alice.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
    await alice.shot(`search-${kind}`);

    const dark = await parley.signedIn(`alice-dark-${kind}`, 'alice', { viewport, colorScheme: 'dark' });
    await expect(dark.conversationLink('bob')).toContainText('Draft: Sounds perfect, see you at 11');
    await dismissOffer(dark);
    await expect(dark.conversationList().getByRole('listitem').first()).toContainText('Carol Diaz');
    await expect(dark.page.getByRole('button', { name: 'Archived (1)' })).toBeVisible();
    await dark.shot(`list-prefs-dark-${kind}`);
    await dark.page.getByRole('button', { name: 'Search messages' }).click();
    // Search reads the device's store: a device just signed in finds what its background sync has written so far.
    const darkField = dark.page.getByRole('searchbox', { name: 'Search messages' });
    const darkResults = dark.page.getByRole('region', { name: 'Search results' }).getByRole('link');
    await expect(async () => {
      await darkField.fill('');
      await darkField.fill('brunch');
      await expect(darkResults, 'every conversation mentioning brunch has reached the new device').toHaveCount(4, { timeout: 3000 });
    }).toPass({ timeout: 30_000 });
    await dark.shot(`search-dark-${kind}`);
  });
}
