/**
 * A conversation of 100,000 messages over 20 months (20 month segments of
 * 5,000), imported through the admin API, opened on a fresh device: it opens
 * at the latest message having fetched only the newest segment, and
 * scrolling to the top fetches every older segment exactly once until the
 * whole history (100,000 rows) is on the device.
 */
import type { Page } from '@playwright/test';
import { conversationId, segmentOf } from '@parley/protocol';
import { expect, test } from '../fixtures.ts';

const MONTHS = 20;
const PER_MONTH = 5_000;
const TOTAL = MONTHS * PER_MONTH;
const BATCH = 1_000;
/** A socket that received more than this carried a segment's messages (5,000 of them are hundreds of KB). */
const FETCHED_BYTES = 50_000;

/** The first instant of the UTC month `offset` months from `now`'s. */
function monthStart(now: Date, offset: number): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1);
}

interface Imported {
  id: string;
  from: string;
  to: string;
  type: 'text';
  body: { type: 'text'; text: string }[];
  ts: number;
}

/**
 * Message n (1-based, in time order): month ⌊(n-1)/5000⌋ of the 20 that end
 * with the current one, spread evenly over that month (the current month only
 * up to now, so that no message is from the future).
 */
function history(now: number): Imported[] {
  const today = new Date(now);
  const messages: Imported[] = [];
  for (let m = 0; m < MONTHS; m++) {
    const start = monthStart(today, m - (MONTHS - 1));
    const end = Math.min(monthStart(today, m - (MONTHS - 1) + 1), now - 60_000);
    const step = Math.max(1, Math.floor((end - start) / PER_MONTH));
    for (let k = 0; k < PER_MONTH; k++) {
      const n = m * PER_MONTH + k + 1;
      const [from, to] = n % 3 === 0 ? ['bob', 'alice'] : ['alice', 'bob'];
      messages.push({ id: `h${n}`, from, to, type: 'text', body: [{ type: 'text', text: `History #${n}` }], ts: start + k * step });
    }
  }
  return messages;
}

/** The messages of a conversation in the device's IndexedDB (Dexie's `messages` table, `conv` index). */
function storedCount(page: Page, conv: string): Promise<number> {
  return page.evaluate(
    (c) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('parley');
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const count = open.result.transaction('messages').objectStore('messages').index('conv').count(c);
          count.onsuccess = () => {
            resolve(count.result);
            open.result.close();
          };
          count.onerror = () => reject(new Error(String(count.error)));
        };
      }),
    conv,
  );
}

test('a 100,000-message conversation opens at its latest messages fetching one segment, and scrolling up fetches each older one once', async ({ parley }) => {
  // Each older segment is 5,000 messages synced and materialised (one bulk write); on a busy 2-core machine that is seconds each.
  test.setTimeout(600_000);
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const now = Date.now();
  const messages = history(now);
  const segments = [...new Set(messages.map((m) => segmentOf(m.ts)))];
  expect(segments).toHaveLength(MONTHS);
  const newest = segments.at(-1) as string;
  // The newest segment is the current month: opening needs exactly that one document (the current month, for writing, is the same).
  expect(newest).toBe(segmentOf(Date.now()));
  for (let i = 0; i < TOTAL; i += BATCH) {
    const result = (await parley.admin('POST', '/messages/import', { messages: messages.slice(i, i + BATCH) })) as { imported: number };
    expect(result.imported).toBe(BATCH);
  }

  // A fresh device (a new browser context) of Bob's. Every conversation document it opens is a socket
  // /sync/c2c/…; a segment's messages travel in the server's sync answer on one of them (a segment of
  // 5,000 messages is hundreds of KB). A socket to a segment the device already holds carries only state
  // vectors and an empty diff (a few bytes): opened, not fetched.
  const bob = await parley.device('bob-new');
  const sockets: { segment: string; received: number }[] = [];
  let listCalls = 0;
  bob.page.on('websocket', (ws) => {
    const match = /\/sync\/c2c\/alice\/bob\/(\d{4}-\d{2})/.exec(new URL(ws.url()).pathname);
    if (match?.[1] === undefined) return;
    const socket = { segment: match[1], received: 0 };
    sockets.push(socket);
    ws.on('framereceived', ({ payload }) => (socket.received += typeof payload === 'string' ? payload.length : payload.byteLength));
  });
  /** Per segment, how many sockets carried its messages. */
  const fetches = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const s of sockets.filter((s) => s.received > FETCHED_BYTES)) counts[s.segment] = (counts[s.segment] ?? 0) + 1;
    return counts;
  };
  bob.page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/v1/conversations/alice/segments') listCalls++;
  });
  await bob.signIn('bob');
  await bob.openConversation('alice', 'Alice');

  await expect(bob.message(`History #${TOTAL}`)).toBeVisible();
  await expect.poll(() => listCalls, { message: 'the segment list was asked for' }).toBe(1);
  // Only the newest segment (which is also the current month) was opened, and its messages came once:
  // by the inbox's background sync of the changed conversation or by opening it, whichever came first
  // (when the background sync had closed it already, opening it again only exchanged state vectors).
  expect(new Set(sockets.map((s) => s.segment))).toEqual(new Set([newest]));
  expect(fetches()).toEqual({ [newest]: 1 });
  expect(await storedCount(bob.page, conversationId('alice', 'bob'))).toBe(PER_MONTH);

  // Scroll to the top again and again, as a reader would, until the beginning is reached.
  await bob.messageLog().evaluate(async (log) => {
    const frame = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => resolve()));
    while (!(log.textContent ?? '').includes('Beginning of conversation')) {
      log.scrollTop = 0;
      await frame();
    }
  });
  await expect(bob.messageLog().getByText('Beginning of conversation')).toBeVisible();
  await expect(bob.message('History #1')).toBeVisible();

  // Every older segment was fetched exactly once, on one socket each (and the newest one not again).
  expect(fetches()).toEqual(Object.fromEntries(segments.map((s) => [s, 1])));
  const opened: Record<string, number> = {};
  for (const s of sockets) opened[s.segment] = (opened[s.segment] ?? 0) + 1;
  for (const segment of segments.slice(0, -1)) expect(opened[segment], `sockets of ${segment}`).toBe(1);
  expect(listCalls).toBe(1);
  expect(await storedCount(bob.page, conversationId('alice', 'bob'))).toBe(TOTAL);
});
