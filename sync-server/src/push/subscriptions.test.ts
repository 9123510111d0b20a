import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../storage/memory.ts';
import type { PushSubscriptionRecord } from '../storage/storage.ts';
import { PushSubscriptions } from './subscriptions.ts';

const record = (user: string, device: string, endpoint: string): PushSubscriptionRecord => ({ user, device, endpoint, p256dh: 'p', auth: 'a', previews: true, updated: 1 });

/** A memory storage whose subscription reads are counted per user. */
function counted() {
  const storage = new MemoryStorage();
  const reads = vi.spyOn(storage, 'pushSubscriptionsOf');
  const readsOf = (user: string): number => reads.mock.calls.filter(([u]) => u === user).length;
  return { storage, reads, readsOf };
}

describe('push subscriptions in memory', () => {
  it('reads a user once, with or without subscriptions, then answers from memory', async () => {
    const { storage, readsOf } = counted();
    await storage.putPushSubscription(record('bob', 'phone', 'https://push.example/1'));
    const subscriptions = new PushSubscriptions(storage, 10);
    for (let i = 0; i < 3; i++) {
      expect(await subscriptions.of('carol')).toEqual([]);
      expect((await subscriptions.of('bob')).map((s) => s.device)).toEqual(['phone']);
    }
    expect([readsOf('carol'), readsOf('bob')]).toEqual([1, 1]);
  });

  it('sees every change it makes at the next read, an endpoint taken from another user too', async () => {
    const { storage } = counted();
    const subscriptions = new PushSubscriptions(storage, 10);
    await subscriptions.put(record('bob', 'phone', 'https://push.example/1'));
    expect((await subscriptions.of('bob')).map((s) => s.device)).toEqual(['phone']);
    await subscriptions.put(record('carol', 'laptop', 'https://push.example/1'));
    expect(await subscriptions.of('bob')).toEqual([]);
    expect(await subscriptions.delete('carol', 'laptop', 'https://push.example/1')).toBe(true);
    expect(await subscriptions.of('carol')).toEqual([]);
  });

  it('does not keep a read that started before a change and ended after it', async () => {
    const { storage, reads, readsOf } = counted();
    const subscriptions = new PushSubscriptions(storage, 10);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The read sees storage before the put, and answers only once the put is done.
    reads.mockImplementationOnce(() => Promise.resolve([]).then(async (before) => (await held, before)));
    const stale = subscriptions.of('bob');
    await subscriptions.put(record('bob', 'phone', 'https://push.example/1'));
    release();
    expect(await stale).toEqual([]);
    expect((await subscriptions.of('bob')).map((s) => s.device)).toEqual(['phone']);
    expect(readsOf('bob')).toBe(2);
  });

  it('keeps at most its bound of users, the least recently asked dropped first', async () => {
    const { storage, readsOf } = counted();
    const subscriptions = new PushSubscriptions(storage, 2);
    for (const user of ['carol', 'dave', 'carol', 'erin', 'dave', 'erin']) await subscriptions.of(user);
    // carol was asked after dave, so erin dropped dave; dave then dropped carol.
    expect([readsOf('carol'), readsOf('dave'), readsOf('erin')]).toEqual([1, 2, 1]);
    await subscriptions.of('carol');
    expect(readsOf('carol')).toBe(2);
  });
});
