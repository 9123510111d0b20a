/** The push store's contract: subscriptions and the queue of pushes. */
import { expect, it } from 'vitest';
import { describeStore } from './backends.ts';

describeStore('push', (open) => {
  it('keeps one push subscription per device, and an endpoint for its newest owner only', async () => {
    const s = open();
    const sub = { user: 'alice', device: 'phone', endpoint: 'https://push.example/1', p256dh: 'k', auth: 'a', previews: true, updated: 1 };
    await s.putPushSubscription(sub);
    await s.putPushSubscription({ ...sub, device: 'laptop', endpoint: 'https://push.example/2' });
    await s.putPushSubscription({ ...sub, previews: false, updated: 2 });
    expect((await s.pushSubscriptionsOf('alice')).sort((x, y) => x.device.localeCompare(y.device))).toEqual([
      { ...sub, device: 'laptop', endpoint: 'https://push.example/2' },
      { ...sub, previews: false, updated: 2 },
    ]);
    // Bob signs in on alice's laptop: the browser's endpoint is his now.
    await s.putPushSubscription({ ...sub, user: 'bob', device: 'laptop', endpoint: 'https://push.example/2' });
    expect((await s.pushSubscriptionsOf('alice')).map((x) => x.device)).toEqual(['phone']);
    expect((await s.pushSubscriptionsOf('bob')).map((x) => x.endpoint)).toEqual(['https://push.example/2']);
    // A stale endpoint (the device subscribed again meanwhile) deletes nothing.
    expect(await s.deletePushSubscription('alice', 'phone', 'https://push.example/old')).toBe(false);
    expect(await s.deletePushSubscription('alice', 'phone', sub.endpoint)).toBe(true);
    expect(await s.deletePushSubscription('bob', 'laptop')).toBe(true);
    expect(await s.deletePushSubscription('bob', 'laptop')).toBe(false);
    expect(await s.pushSubscriptionsOf('alice')).toEqual([]);
  });

  it('queues pushes in order, puts one off and drops sent ones', async () => {
    const s = open();
    const push = { user: 'bob', device: 'phone', payload: '{"v":1}', urgency: 'high' as const, topic: 't', created: 5, attempts: 0, due: 5 };
    const ids = await s.enqueuePushes([push, { ...push, device: 'laptop', urgency: 'normal' }]);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
    await s.retryPush(ids[0] ?? 0, 1, 99);
    expect(await s.queuedPushes()).toEqual([
      { ...push, id: ids[0], attempts: 1, due: 99 },
      { ...push, id: ids[1], device: 'laptop', urgency: 'normal' },
    ]);
    await s.dropPushes([ids[0] ?? 0]);
    expect((await s.queuedPushes()).map((p) => p.id)).toEqual([ids[1]]);
    expect(await s.enqueuePushes([])).toEqual([]);
  });
});
