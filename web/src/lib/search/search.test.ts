import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { storeAt } from '../db.history.ts';


const row = (id: string, text: string, ts: number) => ({
  id,
  conv: 'alice/bob',
  peer: 'bob',
  from: 'bob',
  to: 'alice',
  body: [{ type: 'text', text }],
  text,
  ts,
  seq: ts,
  order: ts,
  segment: '2025-01',
  nickname: 'Bob',
  type: 'text',
});

describe('offline search', () => {
  it('indexes rows stored before the index existed, and finds them by every word, the last as a prefix, newest first', async () => {
    const old = storeAt(5);
    await old.open();
    await old.table('messages').bulkPut([row('m1', 'The Quokka picnic at noon', 1), row('m2', 'quokka café tomorrow', 2), row('m3', 'Nothing here', 3)]);
    old.close();

    const { db } = await import('../db.ts');
    const { searchMessages } = await import('./search.ts');
    await db.open();
    expect((await db.messages.get('m1'))?.words).toEqual(['the', 'quokka', 'picnic', 'at', 'noon']);

    expect((await searchMessages('quokka')).map((r) => r.id)).toEqual(['m2', 'm1']);
    expect((await searchMessages('QUOK')).map((r) => r.id)).toEqual(['m2', 'm1']);
    expect((await searchMessages('quokka pic')).map((r) => r.id)).toEqual(['m1']);
    expect((await searchMessages('cafe')).map((r) => r.id)).toEqual(['m2']);
    expect(await searchMessages('quokka zebra')).toEqual([]);
    expect(await searchMessages('  ')).toEqual([]);
    const [first] = await searchMessages('picnic');
    expect(first?.parts).toContainEqual({ text: 'picnic', hit: true });
    // A message deleted for me is not found.
    await db.hidden.put({ msg: 'm2', peer: 'bob', ts: 4 });
    expect((await searchMessages('quokka')).map((r) => r.id)).toEqual(['m1']);
    db.close();
  });
});

describe('snippets', () => {
  it('cuts long text around the first hit and marks the hits', async () => {
    const { parseQuery } = await import('../shared/words.ts');
    const { highlight, snippetOf } = await import('./search.ts');
    const q = parseQuery('zebra');
    const text = `${'lorem ipsum '.repeat(20)}the zebra crossed ${'dolor sit '.repeat(20)}`;
    const snippet = snippetOf(text, q);
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet).toContain('the zebra crossed');
    expect(highlight(snippet, q).filter((p) => p.hit)).toEqual([{ text: 'zebra', hit: true }]);
  });
});
