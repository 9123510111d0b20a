import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { db } from '../db.ts';
import { arrived } from './arrival.ts';

const CONV = 'alice/bob';
const row = (seq: number) => ({ id: `m${seq}`, conv: CONV, seq, order: seq, from: 'bob', to: 'alice', type: 'text', body: [{ type: 'text', text: `hi ${seq}` }], text: `hi ${seq}`, ts: seq });

afterEach(async () => {
  await db.messages.clear();
});

describe('waiting for the newest message of a conversation', () => {
  it('answers at once when the store holds it', async () => {
    await db.messages.put(row(3) as never);
    expect(await arrived(CONV, 3, 5000)).toBe(true);
  });

  it('waits for it to be written, and answers as soon as it is', async () => {
    const started = Date.now();
    const waiting = arrived(CONV, 2, 10_000);
    setTimeout(() => void db.messages.bulkPut([row(1), row(2)] as never[]), 50);
    expect(await waiting).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives up after the wait when it never comes, and ignores older rows and other conversations', async () => {
    await db.messages.bulkPut([row(1), { ...row(9), id: 'x9', conv: 'alice/carol' }] as never[]);
    expect(await arrived(CONV, 2, 100)).toBe(false);
  });
});
