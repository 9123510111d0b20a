import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../storage/memory.ts';
import { labelOf, Sessions, TOUCH_EVERY_MS } from './sessions.ts';

const DAY = 24 * 3600_000;
const log = pino({ level: 'silent' });

afterEach(() => {
  vi.useRealTimers();
});

describe('Sessions', () => {
  it('takes a session another process created before its announcement arrives (read from storage), and not a revoked one', async () => {
    const storage = new MemoryStorage();
    const here = await Sessions.load(storage, 90 * DAY, log);
    const elsewhere = await Sessions.load(storage, 90 * DAY, log);
    const made = await elsewhere.create('alice', 'phone', 'Firefox on Android');
    expect(here.check(made.id, 'alice')).toBe(false);
    expect(await here.checkOrRead(made.id, 'alice')).toBe(true);
    expect(here.check(made.id, 'alice')).toBe(true);
    expect(await here.checkOrRead(made.id, 'bob')).toBe(false);
    const other = await elsewhere.create('alice', 'laptop', 'Chrome on Linux');
    await elsewhere.revokeOf('alice', other.id);
    expect(await here.checkOrRead(other.id, 'alice')).toBe(false);
  });

  it('ends a session left unused for longer than the idle limit: its refresh is refused and a restart drops it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000 * DAY);
    const storage = new MemoryStorage();
    const sessions = await Sessions.load(storage, 90 * DAY, log);
    const kept = await sessions.create('alice', 'phone', 'Firefox on Android');
    const idle = await sessions.create('alice', 'laptop', 'Chrome on Linux');

    vi.setSystemTime(1_000 * DAY + 60 * DAY);
    const next = await sessions.refresh(kept.refreshToken, 'phone');
    vi.setSystemTime(1_000 * DAY + 91 * DAY);
    await expect(sessions.refresh(idle.refreshToken, 'laptop')).rejects.toMatchObject({ code: 'refresh-invalid' });
    expect(sessions.check(idle.id, 'alice')).toBe(false);
    // Used 31 days ago: still live.
    expect((await sessions.refresh(next.refreshToken, 'phone')).id).toBe(kept.id);

    vi.setSystemTime(1_000 * DAY + 200 * DAY);
    const restarted = await Sessions.load(storage, 90 * DAY, log);
    expect(restarted.check(kept.id, 'alice')).toBe(false);
    expect(await storage.sessions()).toEqual([]);
  });

  it('records the last use at most once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000 * DAY);
    const storage = new MemoryStorage();
    const sessions = await Sessions.load(storage, 90 * DAY, log);
    const { id } = await sessions.create('alice', 'phone', 'x');
    const touch = vi.spyOn(storage, 'touchSession');
    vi.setSystemTime(1_000 * DAY + 1_000);
    expect(sessions.check(id, 'alice')).toBe(true);
    expect(touch).not.toHaveBeenCalled();
    vi.setSystemTime(1_000 * DAY + TOUCH_EVERY_MS);
    sessions.check(id, 'alice');
    sessions.check(id, 'alice');
    expect(touch).toHaveBeenCalledTimes(1);
    expect((await storage.getSession(id))?.lastUsed).toBe(1_000 * DAY + TOUCH_EVERY_MS);
  });

  it('does not accept a live session id for another user', async () => {
    const sessions = await Sessions.load(new MemoryStorage(), 90 * DAY, log);
    const { id } = await sessions.create('alice', 'phone', 'x');
    expect(sessions.check(id, 'mallory')).toBe(false);
    await expect(sessions.revokeOf('mallory', id)).rejects.toMatchObject({ code: 'not-found' });
    expect(sessions.check(id, 'alice')).toBe(true);
  });
});

describe('labelOf', () => {
  it('names the browser and system of common user agents, and something short for the rest', () => {
    expect(labelOf('Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0')).toBe('Firefox on Android');
    expect(labelOf('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1')).toBe(
      'Safari on iOS',
    );
    expect(labelOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')).toBe(
      'Edge on Windows',
    );
    expect(labelOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe('Chrome on macOS');
    expect(labelOf('node')).toBe('node');
    expect(labelOf(`${'x'.repeat(500)}`)).toHaveLength(32);
    expect(labelOf(undefined)).toBe('Unknown device');
    expect(labelOf('<script>')).toBe('Unknown device');
  });
});
