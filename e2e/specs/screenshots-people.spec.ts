/**
 * Screenshots of finding people, on a phone (390×844) and a desktop
 * (1280×800), light and dark: e2e/screenshots/people-search-*, the people
 * found as the user types in "New chat"; invite-panel-*, the invite link
 * with its QR code; invite-landing-*, what someone opening the link sees
 * before they have an account.
 */
import { type Device, expect, type Parley, SIZES, test } from '../fixtures.ts';

async function populate(parley: Parley): Promise<string> {
  const alice = await parley.signup('alice', 'Alice Martin');
  const people: [string, string][] = [
    ['bob', 'Bob Chen'],
    ['bobby.t', 'Bobby Tables'],
    ['roberta', 'Bo Roberta Silva'],
    ['bonnie', 'Bonnie Okafor'],
    ['carol', 'Carol Diaz'],
  ];
  for (const [id, nickname] of people) {
    await parley.signup(id, nickname);
  }
  const { token } = (await parley.userApi(alice, 'POST', '/invites')) as { token: string };
  return token;
}

async function dismissOffer(device: Device): Promise<void> {
  const notNow = device.page.getByRole('button', { name: 'Not now' });
  if (await notNow.isVisible()) await notNow.click();
}

for (const [kind, viewport] of SIZES) {
  test(`people search, the invite panel and the invite landing, on a ${kind}, light and dark`, async ({ parley }) => {
    const token = await populate(parley);
    for (const scheme of ['light', 'dark'] as const) {
      const suffix = scheme === 'dark' ? `-dark-${kind}` : `-${kind}`;
      const alice = await parley.signedIn(`alice-${kind}-${scheme}`, 'alice', { viewport, colorScheme: scheme });
      await dismissOffer(alice);
      await alice.page.getByRole('button', { name: 'New chat' }).click();
      const field = alice.page.getByRole('combobox', { name: 'User id to chat with' });
      await field.fill('bo');
      await expect(alice.page.getByRole('status').filter({ hasText: 'Type a user id, or 3 or more characters' })).toBeVisible();
      await field.fill('bob');
      const found = alice.page.getByRole('listbox', { name: 'People found' }).getByRole('option');
      await expect(found).toHaveCount(2);
      await field.press('ArrowDown');
      await expect(found.first()).toHaveAttribute('aria-selected', 'true');
      await alice.shot(`people-search${suffix}`);

      await field.fill('bonn');
      await expect(found).toHaveCount(1);
      await alice.page.getByRole('button', { name: 'Invite someone' }).click();
      const dialog = alice.page.getByRole('dialog', { name: 'Invite someone' });
      await expect(dialog.getByRole('img', { name: 'QR code of your invite link' })).toBeVisible();
      await expect(dialog.getByText(/^Works until /)).toBeVisible();
      await alice.shot(`invite-panel${suffix}`);
      await alice.page.keyboard.press('Escape');
      await expect(dialog).toBeHidden();

      const visitor = await parley.device(`visitor-${kind}-${scheme}`, { viewport, colorScheme: scheme });
      await visitor.page.goto(`/invite/${token}`);
      await expect(visitor.page.getByRole('region', { name: 'Invitation' })).toContainText('Alice Martin invited you to chat on Parley');
      await visitor.shot(`invite-landing${suffix}`);
    }
  });
}
