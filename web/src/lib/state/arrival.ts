/**
 * Waiting for a conversation's newest message to reach the device's store.
 * The inbox says how far a conversation goes (its last sequence) before the
 * conversation's newest segment is synced and written to the store: a
 * conversation opened right after a sign-in, or after a long time offline,
 * knows it has unread messages before it has them. Its opening waits a
 * moment for them, so that it opens at the first unread rather than at the
 * end of what the device held already.
 */
import { Dexie, liveQuery } from 'dexie';
import { db } from '../db.ts';

/** Whether the store holds a message of `conv` at or after `seq`; waits up to `ms` for one to arrive. */
export async function arrived(conv: string, seq: number, ms: number): Promise<boolean> {
  const count = (): Promise<number> => db.messages.where('[conv+seq]').between([conv, seq], [conv, Dexie.maxKey], true, true).count();
  if ((await count()) > 0) return true;
  return new Promise((resolve) => {
    let done = false;
    let subscription: { unsubscribe(): void } | null = null;
    const finish = (found: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      resolve(found);
    };
    const timer = setTimeout(() => finish(false), ms);
    subscription = liveQuery(count).subscribe({ next: (n) => n > 0 && finish(true), error: () => finish(false) });
    if (done) subscription.unsubscribe();
  });
}
