/**
 * The conversation list's row menu: pin, mute and archive are prefs writes,
 * so they follow the user to the other device; the menu works from the
 * keyboard; an archived conversation comes back with a new message.
 */
import { expect, test, type Device } from '../fixtures.ts';

function row(device: Device, peer: string) {
  return device.conversationList().getByRole('listitem').filter({ has: device.page.locator(`a[href="/c/${peer}"]`) });
}

test('pin, mute and archive follow the user to the other device, and a new message brings an archived conversation back', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  for (const [id, name] of [
    ['bob', 'Bob'],
    ['carol', 'Carol'],
    ['dan', 'Dan'],
  ] as const) {
    await parley.signup(id, name);
    await parley.admin('POST', '/messages', { from: id, to: 'alice', body: [{ type: 'text', text: `Hello from ${name}` }] });
  }
  const laptop = await parley.signedIn('alice-laptop', 'alice');
  const phone = await parley.signedIn('alice-phone', 'alice');
  await expect(laptop.conversationList().getByRole('listitem')).toHaveCount(3);
  // Newest first: Dan, Carol, Bob.
  await expect(laptop.conversationList().getByRole('listitem').first()).toContainText('Dan');

  // Pin Bob from the keyboard: focus the row's actions button, open with Enter, arrow to the item.
  const actions = row(laptop, 'bob').getByRole('button', { name: 'Conversation actions' });
  await actions.focus();
  await laptop.page.keyboard.press('Enter');
  const menu = laptop.page.getByRole('menu');
  await expect(menu.getByRole('menuitem', { name: 'Pin' })).toBeFocused();
  await laptop.page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(actions).toBeFocused();
  await laptop.page.keyboard.press('Enter');
  await laptop.page.keyboard.press('Enter');
  await expect(row(laptop, 'bob').getByText('Pinned')).toBeAttached();

  await row(laptop, 'carol').getByRole('button', { name: 'Conversation actions' }).click();
  await laptop.page.getByRole('menuitem', { name: 'Mute' }).click();
  await row(laptop, 'dan').getByRole('button', { name: 'Conversation actions' }).click();
  await laptop.page.getByRole('menuitem', { name: 'Archive' }).click();

  for (const device of [laptop, phone]) {
    const items = device.conversationList().getByRole('listitem');
    await expect(items, `${device.name}: Dan archived`).toHaveCount(2);
    await expect(items.first(), `${device.name}: Bob pinned on top`).toContainText('Bob');
    await expect(row(device, 'carol').getByText('Muted'), `${device.name}: Carol muted`).toBeAttached();
    await expect(device.page.getByRole('button', { name: 'Archived (1)' })).toBeVisible();
  }

  await phone.page.getByRole('button', { name: 'Archived (1)' }).click();
  await expect(phone.conversationLink('dan')).toBeVisible();
  await phone.page.getByRole('button', { name: 'Back to chats' }).click();

  // Dan writes again: the conversation is back in the main list on both devices.
  await parley.admin('POST', '/messages', { from: 'dan', to: 'alice', body: [{ type: 'text', text: 'Are you there?' }] });
  for (const device of [laptop, phone]) {
    await expect(device.conversationLink('dan'), `${device.name}: Dan is back`).toContainText('Are you there?');
    await expect(device.page.getByRole('button', { name: /^Archived/ })).toHaveCount(0);
  }

  // Unpin from the phone: the laptop follows.
  await row(phone, 'bob').getByRole('button', { name: 'Conversation actions' }).click();
  await phone.page.getByRole('menuitem', { name: 'Unpin' }).click();
  await expect(row(laptop, 'bob').getByText('Pinned')).toHaveCount(0);
  await expect(laptop.conversationList().getByRole('listitem').first()).toContainText('Dan');
});

test('while the device catches up, the list header keeps its buttons in the list pane', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  await parley.admin('POST', '/messages', { from: 'bob', to: 'alice', body: [{ type: 'text', text: 'Hello from Bob' }] });
  // A new device whose conversation documents never answer: it stays catching up (the inbox says there is a
  // message it has not synced), so the sync indicator stays in the header.
  const laptop = await parley.device('alice-laptop');
  await laptop.page.routeWebSocket(/\/sync\/c2c\//, () => undefined);
  await laptop.signIn('alice');
  await expect(laptop.conversationList().getByRole('listitem')).toHaveCount(1);
  await expect(laptop.syncIndicator()).toBeVisible();

  const pane = await laptop.page.locator('.list-pane').boundingBox();
  for (const name of ['Contacts', 'Settings', 'Sign out']) {
    const button = await laptop.page.getByRole(name === 'Contacts' ? 'link' : 'button', { name, exact: true }).boundingBox();
    expect(button, name).not.toBeNull();
    expect((button?.x ?? 0) + (button?.width ?? 0), `${name} ends inside the list pane`).toBeLessThanOrEqual((pane?.x ?? 0) + (pane?.width ?? 0));
  }
});
