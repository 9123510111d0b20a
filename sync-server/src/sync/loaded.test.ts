/**
 * The conversation's last sequence in memory (loaded.ts): read from storage
 * at a load, and dropped with the conversation's last document. A value read
 * for a document dropped while it loaded must not stay behind: the next load
 * would stamp from it.
 */
import { describe, expect, it } from 'vitest';
import { Relations } from '../social/relations.ts';
import { SettingsStore } from '../social/settings.ts';
import { MemoryStorage } from '../storage/memory.ts';
import { LoadedConversations } from './loaded.ts';

/** A memory storage whose lastSeq answers only once `answer()` is called. */
class SlowSeqStorage extends MemoryStorage {
  private waiting: (() => void)[] = [];

  override lastSeq(conversation: string): Promise<number> {
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => super.lastSeq(conversation));
  }

  answer(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const path = { a: 'alice', b: 'bob' };
const conversation = 'alice/bob';

async function setUp(): Promise<{ storage: SlowSeqStorage; loaded: LoadedConversations }> {
  const storage = new SlowSeqStorage();
  await storage.commit([{ kind: 'last-seq', conversation, seq: 3 }]);
  return { storage, loaded: new LoadedConversations(storage, new Relations(storage, new SettingsStore(storage))) };
}

describe('the last sequence of a loaded conversation', () => {
  it('keeps nothing read for a conversation forgotten while it was read, and the next load reads storage', async () => {
    const { storage, loaded } = await setUp();
    loaded.keep(path);
    const reading = loaded.loadSeq(conversation);
    // The document is dropped while it loads (a reset): the conversation is forgotten before the read answers.
    loaded.forget(path);
    storage.answer();
    await reading;
    expect(loaded.lastSeq.has(conversation)).toBe(false);

    await storage.commit([{ kind: 'last-seq', conversation, seq: 7 }]);
    loaded.keep(path);
    const again = loaded.loadSeq(conversation);
    storage.answer();
    await again;
    expect(loaded.lastSeq.get(conversation)).toBe(7);
  });

  it('takes the higher of memory and storage when this process has just taken the lead', async () => {
    const { storage, loaded } = await setUp();
    loaded.keep(path);
    const first = loaded.loadSeq(conversation);
    storage.answer();
    await first;
    expect(loaded.lastSeq.get(conversation)).toBe(3);
    // Another process led meanwhile and stamped up to 9; this one followed and kept 3.
    await storage.commit([{ kind: 'last-seq', conversation, seq: 9 }]);
    loaded.keep(path);
    const led = loaded.loadSeq(conversation, true);
    storage.answer();
    await led;
    expect(loaded.lastSeq.get(conversation)).toBe(9);
    // Memory ahead of storage (stamps not committed yet) stays.
    loaded.lastSeq.set(conversation, 12);
    const ahead = loaded.loadSeq(conversation, true);
    storage.answer();
    await ahead;
    expect(loaded.lastSeq.get(conversation)).toBe(12);
  });
});
