/** The callback queue's contract: rows written in a message's commit, claimed by one process at a time, put off, dropped. */
import { expect, it } from 'vitest';
import type { Storage, Write } from '../storage.ts';
import { describeStore } from './backends.ts';

const callback = (conversation: string, payload: string, due: number, msg = `m${payload}`): Write => ({ kind: 'callback', conversation, msg, payload, due });

/** The ids of the queued callbacks, oldest first. */
async function queuedIds(s: Storage): Promise<number[]> {
  return (await s.queuedCallbacks()).map((c) => c.id);
}

describeStore('callbacks', (open) => {
  it('queues a callback with its message, in the same commit, in order', async () => {
    const s = open();
    await s.commit([
      { kind: 'update', doc: 'conv/alice/bob/2026-12', data: new Uint8Array([1]) },
      callback('alice/bob', '{"n":1}', 5),
      callback('alice/bob', '{"n":2}', 6),
    ]);
    const queued = await s.queuedCallbacks();
    expect(queued.map(({ id: _id, ...rest }) => rest)).toEqual([
      { conversation: 'alice/bob', msg: 'm{"n":1}', payload: '{"n":1}', attempts: 0, due: 5 },
      { conversation: 'alice/bob', msg: 'm{"n":2}', payload: '{"n":2}', attempts: 0, due: 6 },
    ]);
    expect(queued[1]?.id).toBeGreaterThan(queued[0]?.id ?? Infinity);
  });

  it('gives each due callback to one process at a time, and a dead or stopped process\'s to the next claim', async () => {
    const s = open();
    await s.commit([callback('a/b', '1', 5), callback('a/b', '2', 5), callback('a/c', '3', 150)]);
    const [first = 0, second = 0, later = 0] = await queuedIds(s);
    // Not due yet: nobody takes the third.
    expect((await s.claimCallbacks('a', 10, 100, 1)).map((c) => c.id)).toEqual([first]);
    expect((await s.claimCallbacks('b', 10, 100, 10)).map((c) => c.id)).toEqual([second]);
    expect(await s.claimCallbacks('c', 99, 200, 10)).toEqual([]);
    // Their claims ran out (a and b died): c takes both, oldest first.
    expect((await s.claimCallbacks('c', 100, 200, 10)).map((c) => c.id)).toEqual([first, second]);
    // Two claims at once never share a row.
    await s.releaseCallbackClaims('c');
    const [x, y] = await Promise.all([s.claimCallbacks('d', 160, 400, 10), s.claimCallbacks('e', 160, 400, 10)]);
    expect([...(x ?? []), ...(y ?? [])].map((c) => c.id).sort((p, q) => p - q)).toEqual([first, second, later]);
    // A lone process takes what another node holds (its previous life), never what it holds itself.
    expect((await s.claimCallbacks('f', 200, 500, 10, true)).map((c) => c.id)).toEqual([first, second, later]);
    expect(await s.claimCallbacks('f', 200, 500, 10, true)).toEqual([]);
    // Releasing some rows frees only those.
    await s.releaseCallbackClaims('f', [second]);
    expect((await s.claimCallbacks('g', 200, 500, 10)).map((c) => c.id)).toEqual([second]);
  });

  it('puts a callback off, freeing its claim, and drops taken ones', async () => {
    const s = open();
    await s.commit([callback('a/b', '1', 5), callback('a/b', '2', 5)]);
    const [first = 0, second = 0] = await queuedIds(s);
    expect(await s.claimCallbacks('a', 10, 1000, 10)).toHaveLength(2);
    expect(await s.nextCallbackDue(10)).toBeNull();
    await s.retryCallback(first, 1, 50);
    expect(await s.nextCallbackDue(10)).toBe(50);
    expect(await s.nextCallbackDue(50)).toBeNull();
    await s.dropCallbacks([second]);
    expect(await s.queuedCallbacks()).toEqual([{ id: first, conversation: 'a/b', msg: 'm1', payload: '1', attempts: 1, due: 50 }]);
    // Not before it is due; then anyone may take it, though a's claim would have lasted until 1000.
    expect(await s.claimCallbacks('b', 49, 2000, 10)).toEqual([]);
    expect((await s.claimCallbacks('b', 50, 2000, 10)).map((c) => c.id)).toEqual([first]);
    await s.dropCallbacks([first]);
    await s.dropCallbacks([]);
    expect(await s.queuedCallbacks()).toEqual([]);
  });

  it("drops a recalled message's callback, and only its own", async () => {
    const s = open();
    await s.commit([callback('a/b', '1', 5, 'x'), callback('a/c', '2', 5, 'x'), callback('a/b', '3', 5, 'y')]);
    await s.dropCallbacksOf('a/b', 'x');
    expect((await s.queuedCallbacks()).map((c) => [c.conversation, c.msg])).toEqual([
      ['a/c', 'x'],
      ['a/b', 'y'],
    ]);
  });
});
