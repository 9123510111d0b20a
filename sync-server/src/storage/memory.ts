/** The in-memory twin of the SQLite storage, for unit tests: one class per store (memory/), same contract, no durability. */
import { MemorySessions, MemoryUsers } from './memory/accounts.ts';
import { MemoryCallbacks } from './memory/callbacks.ts';
import { MemoryDocs } from './memory/docs.ts';
import { MemoryMedia } from './memory/media.ts';
import { MemoryMessages } from './memory/messages.ts';
import { MemoryPush } from './memory/push.ts';
import { MemorySocial } from './memory/social.ts';
import { ComposedStorage, type Storage } from './storage.ts';

export class MemoryStorage extends ComposedStorage implements Storage {
  private readonly docs: MemoryDocs;

  constructor() {
    const messages = new MemoryMessages();
    const media = new MemoryMedia();
    const callbacks = new MemoryCallbacks();
    const docs = new MemoryDocs([messages, media, callbacks]);
    super({ docs, messages, media, callbacks, users: new MemoryUsers(), sessions: new MemorySessions(), social: new MemorySocial(), push: new MemoryPush() });
    this.docs = docs;
  }

  /** While set, `commit` and `probe` fail with it (for the tests of a failing disk); nothing of a failed commit is kept. */
  get failWith(): Error | null {
    return this.docs.failWith;
  }

  set failWith(error: Error | null) {
    this.docs.failWith = error;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
