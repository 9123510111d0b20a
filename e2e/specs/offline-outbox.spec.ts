/**
 * The outbox: messages written offline wait on the device (through a reload),
 * go out by themselves when the network returns, reach every device of the
 * peer exactly once and in order, and walk pending → sent → delivered → read.
 */
import { expect, test } from '../fixtures.ts';

const OFFLINE_TEXTS = ['offline 1', 'offline 2 ✈️', 'offline 3', 'offline 4', 'offline 5'];
const ORDER = ['pending', 'sent', 'delivered', 'read'];

test('messages sent offline survive a reload and are delivered once, in order, when back online', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const aliceLaptop = await parley.signedIn('alice-laptop', 'alice');
  const alicePhone = await parley.signedIn('alice-phone', 'alice');
  const bob = await parley.signedIn('bob', 'bob', { controllableNetwork: true });

  // Bob opens the chat while online (so the app knows Alice), then loses the network.
  await bob.startChat('alice', 'Alice');
  await bob.waitForServiceWorker();
  await bob.expectConversationOpen('alice', 'Alice');
  await bob.offline();
  await expect(bob.offlineBanner()).toBeVisible();

  for (const text of OFFLINE_TEXTS) await bob.send(text);
  await expect(bob.messageTexts()).toHaveText(OFFLINE_TEXTS);
  for (const text of OFFLINE_TEXTS) await expect(bob.message(text)).toHaveAttribute('data-state', 'pending');

  // Still offline, the page reloads (from the service worker): the outbox is still there.
  await bob.page.reload();
  await bob.expectConversationOpen('alice', 'Alice');
  await expect(bob.offlineBanner()).toBeVisible();
  await expect(bob.messageTexts()).toHaveText(OFFLINE_TEXTS);
  for (const text of OFFLINE_TEXTS) await expect(bob.message(text)).toHaveAttribute('data-state', 'pending');

  await bob.recordStates();
  await bob.online();
  await expect(bob.offlineBanner()).toBeHidden();

  // Alice's devices, sitting on the conversation list, receive them: delivered, not read.
  for (const text of OFFLINE_TEXTS) {
    await expect(bob.message(text), `"${text}" is delivered`).toHaveAttribute('data-state', 'delivered', {
      timeout: 30_000,
    });
  }
  for (const alice of [aliceLaptop, alicePhone]) {
    await expect(alice.conversationLink('bob')).toContainText('Bob');
    await expect(alice.unreadBadge('bob', 5)).toBeVisible();
  }

  const history = await bob.stateHistory();
  const ids = await bob.messages().evaluateAll((els) => els.map((el) => el.getAttribute('data-id') ?? ''));
  expect(ids).toHaveLength(5);
  for (const id of ids) {
    const states = history[id] ?? [];
    expect(states, `states of message ${id} move forward only`).toEqual(
      [...states].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)),
    );
    expect(states, `message ${id} was pending, then sent, then delivered`).toEqual(['pending', 'sent', 'delivered']);
  }

  // Alice opens the conversation on her laptop: all five, once each, in order; Bob sees them read.
  await aliceLaptop.openConversation('bob', 'Bob');
  await expect(aliceLaptop.messageTexts()).toHaveText(OFFLINE_TEXTS);
  for (const text of OFFLINE_TEXTS) {
    await expect(bob.message(text), `"${text}" is read`).toHaveAttribute('data-state', 'read');
  }

  // And on her phone.
  await alicePhone.openConversation('bob', 'Bob');
  await expect(alicePhone.messageTexts()).toHaveText(OFFLINE_TEXTS);

  // Bob's own view holds each message once (the outbox was not re-sent as copies).
  await expect(bob.messageTexts()).toHaveText(OFFLINE_TEXTS);
  await bob.page.reload();
  await bob.expectConversationOpen('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText(OFFLINE_TEXTS);
  for (const text of OFFLINE_TEXTS) await expect(bob.message(text)).toHaveAttribute('data-state', 'read');
});
