/**
 * Receipts on the sender's side: a message is Sent while no device of the
 * recipient has it, Delivered once the recipient's device syncs it (sitting on
 * the conversation list, the conversation not open), and Read once the
 * recipient opens the conversation. The state is read the way a screen reader
 * reads it: the state icon's label. Along the way: the client API's events on
 * the recipient's page, the title's unread count, and the peer's presence.
 */
import { expect, test, type Device } from '../fixtures.ts';

const ORDER = ['pending', 'sent', 'delivered', 'read'];

/** The accessible label of a message's state icon (StateIcon.svelte: STATE_LABELS). */
function stateLabel(device: Device, text: string) {
  return device.message(text).locator('.state-icon');
}

test('the sender’s ticks go sent → delivered → read as the recipient’s device syncs and reads', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  const bob = await parley.signedIn('bob', 'bob', { controllableNetwork: true });

  // Bob sits on his conversation list, in step with the server, then loses the network. His page follows the client API's events.
  await expect(bob.conversationList()).toBeVisible();
  // Until a device's first sync, what arrives is history, not news: a message event needs a device that was in step.
  await expect.poll(() => bob.page.evaluate(() => (window as unknown as { parley: { syncState: string | null } }).parley.syncState)).toBe('finished');
  await bob.page.evaluate(() => {
    const w = window as unknown as { events: unknown[]; parley: { on(name: string, listener: (e: object) => void): () => void } };
    w.events = [];
    w.parley.on('message', (e) => w.events.push({ kind: 'message', ...e }));
    w.parley.on('sync', (e) => w.events.push({ kind: 'sync', ...e }));
  });
  await bob.offline();
  await expect(bob.offlineBanner()).toBeVisible();

  await alice.startChat('bob', 'Bob');
  await alice.recordStates();
  await alice.send('Are you there?');
  await expect(stateLabel(alice, 'Are you there?')).toHaveText('Sent');
  await expect(alice.message('Are you there?')).toHaveAttribute('data-state', 'sent');

  // Back online on the list: his device syncs the message without opening it.
  await bob.online();
  await expect(bob.offlineBanner()).toBeHidden();
  await expect(bob.unreadBadge('alice', 1)).toBeVisible();
  await expect(stateLabel(alice, 'Are you there?')).toHaveText('Delivered');
  await expect(bob.page).toHaveURL(/\/$/);
  // The client API told Bob's page: the new message, and a sync that started and finished; the title counts it.
  const events = (): Promise<{ kind: string; state?: string; peer?: string; from?: string; preview?: string }[]> =>
    bob.page.evaluate(() => (window as unknown as { events: { kind: string }[] }).events);
  await expect.poll(async () => (await events()).filter((e) => e.kind === 'message')).toEqual([
    expect.objectContaining({ peer: 'alice', from: 'alice', preview: 'Are you there?' }),
  ]);
  await expect.poll(async () => (await events()).flatMap((e) => (e.kind === 'sync' ? [e.state] : [])).join(' ')).toMatch(/started finished$/);
  await expect(bob.page).toHaveTitle('(1) Parley');

  // Bob opens the conversation: read.
  await bob.openConversation('alice', 'Alice');
  await expect(bob.message('Are you there?')).toBeVisible();
  await expect(stateLabel(alice, 'Are you there?')).toHaveText('Read');
  await expect(bob.conversationLink('alice').getByLabel(/unread/)).toHaveCount(0);
  await expect(bob.page).toHaveTitle('Parley');

  // Presence: Bob's app is open, so Alice's header says he is online, whether or not he shows the conversation.
  const subtitle = alice.page.getByRole('region', { name: 'Bob' }).locator('.subtitle');
  await expect(subtitle).toHaveText('online');
  await bob.page.goBack();
  await expect(bob.page).toHaveURL(/\/$/);
  await expect(subtitle).toHaveText('online');

  const [id] = await alice.messages().evaluateAll((els) => els.map((el) => el.getAttribute('data-id') ?? ''));
  const states = (await alice.stateHistory())[id ?? ''] ?? [];
  expect(states, 'states move forward only').toEqual([...states].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)));
  expect(states.filter((s) => s !== 'pending'), 'sent, then delivered, then read').toEqual(['sent', 'delivered', 'read']);
});
