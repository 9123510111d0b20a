/** The push store's contract: subscriptions and the queue of pushes. */
import { expect, it } from 'vitest';
import { describeStore } from './backends.ts';

const ascending = (ids: number[]): number[] => ids.sort((x, y) => x - y);

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
    const ids = await s.enqueuePushes([push, { ...push, device: 'laptop', urgency: 'normal' }], 'node-a', 10);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
    await s.retryPush(ids[0] ?? 0, 1, 99);
    expect(await s.queuedPushes()).toEqual([
      { ...push, id: ids[0], attempts: 1, due: 99 },
      { ...push, id: ids[1], device: 'laptop', urgency: 'normal' },
    ]);
    await s.dropPushes([ids[0] ?? 0]);
    expect((await s.queuedPushes()).map((p) => p.id)).toEqual([ids[1]]);
    expect(await s.enqueuePushes([], 'node-a', 10)).toEqual([]);
  });

  it('gives each due push to one process at a time, and a dead or stopped process\'s pushes to the next claim', async () => {
    const s = open();
    const push = { user: 'bob', device: 'phone', payload: '{}', urgency: 'high' as const, topic: 't', created: 5, attempts: 0, due: 5 };
    // a holds three until 100; the third is put off until 150.
    const [first = 0, second = 0, later = 0] = await s.enqueuePushes([push, { ...push, device: 'laptop' }, { ...push, due: 150 }], 'a', 100);
    expect(await s.claimPushes('b', 99, 200, 10)).toEqual([]);
    // a's claim ran out (a died): b takes the due ones, oldest first, as many as it asks for.
    expect((await s.claimPushes('b', 100, 200, 1)).map((p) => p.id)).toEqual([first]);
    expect(await s.claimPushes('b', 100, 200, 10)).toEqual([{ ...push, id: second, device: 'laptop' }]);
    // a, still alive after all, learns which it lost; b still holds its own.
    expect(ascending(await s.renewPushClaims('a', [first, second, later], 300))).toEqual([later]);
    expect(ascending(await s.renewPushClaims('b', [first, second, later], 300))).toEqual([first, second]);
    // Two claims at once never share a push.
    await s.releasePushClaims('b');
    const [c, d] = await Promise.all([s.claimPushes('c', 160, 400, 10), s.claimPushes('d', 160, 400, 10)]);
    expect([...(c ?? []), ...(d ?? [])].map((p) => p.id).sort((x, y) => x - y)).toEqual([first, second]);
    // A lone process at start takes everything, due or not, whatever its claim.
    expect((await s.claimPushes('e', 0, 500, 10, true)).map((p) => p.id)).toEqual([first, second, later]);
    expect(ascending(await s.renewPushClaims('a', [later], 600))).toEqual([]);
    expect(ascending(await s.renewPushClaims('e', [later], 600))).toEqual([later]);
    // A push's claim outlives its retry; a dropped push is no one's.
    await s.retryPush(later, 1, 700);
    await s.dropPushes([first]);
    expect(ascending(await s.renewPushClaims('e', [first, second, later], 800))).toEqual([second, later]);
    expect(await s.queuedPushes()).toEqual([
      { ...push, id: second, device: 'laptop' },
      { ...push, id: later, attempts: 1, due: 700 },
    ]);
  });
});
