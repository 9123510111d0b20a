import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath } from '@parley/protocol';
import { SyncedDoc } from './syncedDoc.ts';

// The provider is built but never connects here (shouldConnect is false): any WebSocket class will do.
globalThis.WebSocket ??= class {} as unknown as typeof WebSocket;

const opened: SyncedDoc[] = [];
afterEach(() => {
  for (const synced of opened.splice(0)) synced.destroy();
});

function offlineDoc(): SyncedDoc {
  const synced = new SyncedDoc({
    path: conversationPath('alice', 'bob', '2026-12'),
    wsBase: 'ws://127.0.0.1:9/sync',
    token: () => 'token',
    shouldConnect: () => false,
    hooks: {
      attach: () => () => {},
      control: () => {},
      synced: () => {},
      error: (e) => {
        throw e;
      },
    },
  });
  opened.push(synced);
  return synced;
}

describe('SyncedDoc.reset', () => {
  it('resets a copy once, however many refusals of its pieces ask for it, early or late', async () => {
    const synced = offlineDoc();
    await synced.ready;
    const first = synced.doc;
    // A slow-down on one piece, then reset-required for each piece sent after it.
    await Promise.all([synced.reset(first), synced.reset(first), synced.reset(first)]);
    const second = synced.doc;
    expect(second).not.toBe(first);
    expect(first.isDestroyed).toBe(true);
    // A refusal of the old copy that arrives after its reset leaves the new copy alone.
    await synced.reset(first);
    expect(synced.doc).toBe(second);
    expect(second.isDestroyed).toBe(false);
    // A refusal of the new copy resets it in turn.
    await synced.reset(second);
    expect(synced.doc).not.toBe(second);
  });
});
