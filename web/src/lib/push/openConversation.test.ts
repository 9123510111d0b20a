/**
 * The notification click's choices, against a fake `clients`. The e2e spec
 * (e2e/specs/push.spec.ts) clicks real notifications in Chromium; this covers
 * the choice of window, which that run cannot vary.
 */
import { describe, expect, it } from 'vitest';
import { isOpenConversation } from '../shared/windowMessages.ts';
import { type ClientsLike, openConversationFromNotification, type WindowLike } from './openConversation.ts';

class FakeWindow implements WindowLike {
  readonly messages: unknown[] = [];
  focusCalls = 0;

  constructor(
    readonly focused: boolean,
    readonly visibilityState: DocumentVisibilityState,
    private readonly refuseFocus = false,
  ) {}

  focus(): Promise<unknown> {
    this.focusCalls++;
    return this.refuseFocus ? Promise.reject(new Error('InvalidAccessError')) : Promise.resolve(this);
  }

  postMessage(message: unknown): void {
    this.messages.push(message);
  }
}

class FakeClients implements ClientsLike {
  readonly opened: string[] = [];

  constructor(private readonly windows: FakeWindow[]) {}

  matchAll(): Promise<readonly WindowLike[]> {
    return Promise.resolve(this.windows);
  }

  openWindow(url: string): Promise<unknown> {
    this.opened.push(url);
    return Promise.resolve(null);
  }
}

const ORIGIN = 'https://parley.example';

describe('openConversationFromNotification', () => {
  it('opens a window at the conversation when none is open', async () => {
    const clients = new FakeClients([]);
    await openConversationFromNotification({ peer: 'bob', messageId: 'm1' }, clients, ORIGIN);
    expect(clients.opened).toEqual(['https://parley.example/c/bob']);
  });

  it('escapes the peer in the URL', async () => {
    const clients = new FakeClients([]);
    await openConversationFromNotification({ peer: 'bob@example.com' }, clients, ORIGIN);
    expect(clients.opened).toEqual(['https://parley.example/c/bob%40example.com']);
  });

  it('tells the window in front to open the conversation, and focuses it', async () => {
    const background = new FakeWindow(false, 'hidden');
    const front = new FakeWindow(true, 'visible');
    const clients = new FakeClients([background, front]);
    await openConversationFromNotification({ peer: 'bob' }, clients, ORIGIN);
    expect(front.messages).toEqual([{ type: 'open-conversation', peer: 'bob' }]);
    expect(front.focusCalls).toBe(1);
    expect(background.messages).toEqual([]);
    expect(clients.opened).toEqual([]);
  });

  it('prefers a visible window to a hidden one, and any window to a new one', async () => {
    const hidden = new FakeWindow(false, 'hidden');
    const visible = new FakeWindow(false, 'visible');
    await openConversationFromNotification({ peer: 'bob' }, new FakeClients([hidden, visible]), ORIGIN);
    expect(visible.messages).toHaveLength(1);
    const only = new FakeWindow(false, 'hidden');
    const clients = new FakeClients([only]);
    await openConversationFromNotification({ peer: 'bob' }, clients, ORIGIN);
    expect(only.messages).toHaveLength(1);
    expect(clients.opened).toEqual([]);
  });

  it('still opens the conversation when the browser refuses focus', async () => {
    const window = new FakeWindow(false, 'hidden', true);
    await openConversationFromNotification({ peer: 'bob' }, new FakeClients([window]), ORIGIN);
    expect(window.messages).toEqual([{ type: 'open-conversation', peer: 'bob' }]);
  });

  it('opens the list for a notification that names no conversation', async () => {
    const clients = new FakeClients([]);
    await openConversationFromNotification(null, clients, ORIGIN);
    expect(clients.opened).toEqual(['https://parley.example/']);
    const window = new FakeWindow(true, 'visible');
    await openConversationFromNotification({}, new FakeClients([window]), ORIGIN);
    expect(window.messages).toEqual([]);
    expect(window.focusCalls).toBe(1);
  });
});

describe('isOpenConversation', () => {
  it('accepts only the message the worker sends', () => {
    expect(isOpenConversation({ type: 'open-conversation', peer: 'bob' })).toBe(true);
    expect(isOpenConversation({ type: 'open-conversation', peer: '' })).toBe(false);
    expect(isOpenConversation({ type: 'SKIP_WAITING' })).toBe(false);
    expect(isOpenConversation('open-conversation')).toBe(false);
  });
});
