import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { db, type ExtraOutboxRow } from '../db.ts';
import { countUnsent, totalUnsent, unsentWords } from './unsent.ts';

const message = (id: string, extra: object = {}) => ({ id, kind: 'message' as const, path: 'conv/a/b/2026-12', conv: 'a/b', peer: 'b', message: {}, state: 'pending' as const, createdAt: 1, ...extra });

describe('what sign-out would delete', () => {
  beforeEach(async () => {
    await db.outbox.clear();
  });

  it('counts messages, uploads and other changes not acknowledged, and the refused ones among them', async () => {
    await db.outbox.bulkPut([message('m1'), message('m2', { state: 'failed', code: 'blocked' }), message('m3', { uploads: 'pending' }), message('m4', { uploads: 'done' })]);
    const reaction: ExtraOutboxRow = { id: 'extra|reactions|x', kind: 'extra', key: 'reactions|x', path: 'p', root: 'reactions', docKey: 'x', msg: 'm0', value: null, state: 'pending', client: 1, clock: 1, createdAt: 1 };
    await db.outbox.put(reaction);
    const unsent = await countUnsent();
    expect(unsent).toEqual({ messages: 3, uploads: 1, changes: 1, failed: 1 });
    expect(totalUnsent(unsent)).toBe(5);
    expect(unsentWords(unsent)).toBe('3 messages, 1 upload and 1 change (a reaction, edit or recall)');
  });

  it('says nothing when nothing is unsent, and one kind alone', async () => {
    expect(await countUnsent()).toEqual({ messages: 0, uploads: 0, changes: 0, failed: 0 });
    expect(unsentWords({ messages: 1, uploads: 0, changes: 0, failed: 0 })).toBe('1 message');
    expect(unsentWords({ messages: 0, uploads: 2, changes: 0, failed: 0 })).toBe('2 uploads');
  });
});
