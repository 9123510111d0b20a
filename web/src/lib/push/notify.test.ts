import { describe, expect, it } from 'vitest';
import type { PushPayload } from '@parley/protocol';
import { APP_ICON, notificationData, planNotification } from './notify.ts';

function payload(kind: PushPayload['kind'], id: string, fields: { preview?: string; avatar?: string } = {}): PushPayload {
  return {
    v: 1,
    kind,
    peer: 'bob',
    doc: 'c2c/alice/bob/2026-05',
    sender: { id: 'bob', nickname: 'Bob Chen', ...(fields.avatar === undefined ? {} : { avatar: fields.avatar }) },
    message: { id, seq: 3, ts: 1_700_000_000_000, type: 'text', ...(fields.preview === undefined ? {} : { preview: fields.preview }) },
    unread: 2,
  };
}

describe('planNotification', () => {
  it('shows a message as the sender, with its preview, tagged with the conversation', () => {
    const plan = planNotification(payload('message', 'm1', { preview: 'Lunch?' }), null);
    expect(plan).toEqual({
      show: true,
      title: 'Bob Chen',
      options: expect.objectContaining({
        body: 'Lunch?',
        icon: APP_ICON,
        tag: 'bob',
        renotify: true,
        data: { peer: 'bob', messageId: 'm1', ids: ['m1'] },
      }) as unknown,
    });
  });

  it("shows the title and text the sender's backend chose (OfflinePushInfo) instead of the name and the preview", () => {
    const plan = planNotification({ ...payload('message', 'm1', { preview: 'Lunch?' }), show: { title: 'Order 42', text: 'Your parcel is on its way' } }, null);
    expect(plan.show && plan.title).toBe('Order 42');
    expect(plan.show && plan.options.body).toBe('Your parcel is on its way');
  });

  it("uses the sender's avatar as the icon when the push carries one", () => {
    const plan = planNotification(payload('message', 'm1', { preview: 'Hi', avatar: 'https://cdn.example/b.png' }), null);
    expect(plan.show && plan.options.icon).toBe('https://cdn.example/b.png');
  });

  it('says only that a message came when previews are off, and how many', () => {
    const first = planNotification(payload('message', 'm1'), null);
    expect(first.show && first.options.body).toBe('New message');
    const second = planNotification(payload('message', 'm2'), { peer: 'bob', messageId: 'm1', ids: ['m1'] });
    expect(second.show && second.options.body).toBe('2 new messages');
    expect(second.show && second.options.data.ids).toEqual(['m1', 'm2']);
  });

  it('counts a message pushed twice once', () => {
    const plan = planNotification(payload('message', 'm1', { preview: 'Hi' }), { peer: 'bob', messageId: 'm1', ids: ['m1'] });
    expect(plan.show && plan.options.data.ids).toEqual(['m1']);
  });

  it('replaces a recalled message with "Message recalled", silently, keeping the others', () => {
    const plan = planNotification(payload('recall', 'm2'), { peer: 'bob', messageId: 'm2', ids: ['m1', 'm2'] });
    expect(plan).toEqual({
      show: true,
      title: 'Bob Chen',
      options: expect.objectContaining({ body: 'Message recalled', renotify: false, silent: true, data: { peer: 'bob', messageId: 'm1', ids: ['m1'] } }) as unknown,
    });
  });

  it('closes the notification when its only message is recalled', () => {
    expect(planNotification(payload('recall', 'm1'), { peer: 'bob', messageId: 'm1', ids: ['m1'] })).toEqual({ show: false });
  });

  it('still shows something for a recall with no notification (a push must show one)', () => {
    const plan = planNotification(payload('recall', 'm1'), null);
    expect(plan.show && plan.options.body).toBe('Message recalled');
  });
});

describe('notificationData', () => {
  it('reads what the worker stored, and what older versions stored without ids', () => {
    expect(notificationData({ peer: 'bob', messageId: 'm1', ids: ['m0', 'm1'] })).toEqual({ peer: 'bob', messageId: 'm1', ids: ['m0', 'm1'] });
    expect(notificationData({ peer: 'bob', messageId: 'm1' })).toEqual({ peer: 'bob', messageId: 'm1', ids: ['m1'] });
    expect(notificationData({ url: '/c/bob' })).toBeNull();
    expect(notificationData(null)).toBeNull();
  });
});
