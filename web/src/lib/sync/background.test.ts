import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { db, type ConversationRow } from '../db.ts';
import { BackgroundSync } from './background.ts';

const conversation = (peer: string, lastSeq: number, updatedAt: number): ConversationRow => ({ peer, segment: '2026-11', lastSeq, preview: '', lastTs: updatedAt, unread: 0, updatedAt });

/** A background sync whose segment syncs finish when the test says so. */
function harness() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const busy: boolean[] = [];
  const sync = new BackgroundSync({
    me: 'me',
    sync: (path) =>
      new Promise<void>((resolve) => {
        started.push(path);
        finish.set(path, resolve);
      }),
    changed: () => busy.push(sync.busy),
    active: () => true,
    error: (e) => {
      throw e;
    },
  });
  return { sync, started, finish, busy };
}

beforeEach(async () => {
  await db.conversations.clear();
  await db.messages.clear();
  await db.reads.clear();
  await db.receipts.clear();
});

describe('background sync of changed conversations', () => {
  it('syncs the newest segment of each conversation beyond what the device holds, most recent first, three at a time', async () => {
    await db.conversations.bulkPut([conversation('a', 5, 1), conversation('b', 3, 4), conversation('c', 2, 3), conversation('d', 9, 2), conversation('e', 0, 5)]);
    const { sync, started, finish, busy } = harness();
    sync.schedule();
    // e has nothing beyond the device; b (newest activity), c, d start; a waits.
    await vi.waitFor(() => expect(started).toHaveLength(3));
    expect(started).toEqual([conversationPath('me', 'b', '2026-11'), conversationPath('me', 'c', '2026-11'), conversationPath('me', 'd', '2026-11')]);
    expect(sync.busy).toBe(true);
    finish.get(started[0] ?? '')?.();
    await vi.waitFor(() => expect(started).toHaveLength(4));
    expect(started.at(-1)).toBe(conversationPath('me', 'a', '2026-11'));
    for (const path of started) finish.get(path)?.();
    await vi.waitFor(() => expect(sync.busy).toBe(false));
    expect(busy.at(-1)).toBe(false);
  });

  it('does not try a conversation again for the same sequence, until the connection comes back', async () => {
    await db.conversations.put(conversation('a', 5, 1));
    const { sync, started, finish, busy } = harness();
    sync.schedule();
    await vi.waitFor(() => expect(started).toHaveLength(1));
    finish.get(started[0] ?? '')?.();
    await vi.waitFor(() => expect(sync.busy).toBe(false));
    // Checked again with nothing new (each check ends by reporting whether it is busy): nothing starts.
    const reports = busy.length;
    sync.schedule();
    await vi.waitFor(() => expect(busy.length).toBeGreaterThan(reports));
    expect(started).toHaveLength(1);
    // A newer message: tried again.
    await db.conversations.put(conversation('a', 6, 2));
    sync.schedule();
    await vi.waitFor(() => expect(started).toHaveLength(2));
    finish.get(started[1] ?? '')?.();
    await vi.waitFor(() => expect(sync.busy).toBe(false));
    sync.retryAll();
    await vi.waitFor(() => expect(started).toHaveLength(3));
  });
});
