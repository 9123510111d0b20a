import { describe, expect, it } from 'vitest';
import { registry } from './registry.ts';
import { checkActions, resolveCustom } from './resolve.ts';
import { commitmentOf } from './rps/rps.ts';

const commit = commitmentOf('rock', '0123456789abcdef0123456789abcdef');

describe('custom message registry', () => {
  it('knows the kinds it ships, each with its renderer and composer', () => {
    expect([...registry.keys()].sort()).toEqual(['red-packet', 'rps']);
    for (const kind of registry.values()) {
      expect(kind.view.load).toBeTypeOf('function');
      expect(kind.compose).toBeDefined();
    }
  });

  it('resolves a known kind whose data passes its schema', () => {
    const resolved = resolveCustom(registry, { kind: 'red-packet', data: { amount: 888, greeting: 'Happy new year' }, description: '🧧' });
    expect(resolved.supported).toBe(true);
    if (resolved.supported) expect(resolved.data).toEqual({ amount: 888, greeting: 'Happy new year' });
  });

  it('shows data that fails its schema as an unsupported message with the description', () => {
    for (const data of [{ amount: 0, greeting: '' }, { amount: 20_001, greeting: '' }, { amount: 1.5, greeting: '' }, { amount: 100 }, 'x', null]) {
      expect(resolveCustom(registry, { kind: 'red-packet', data, description: '🧧 Red packet: hi' })).toEqual({
        supported: false,
        reason: 'invalid-data',
        description: '🧧 Red packet: hi',
      });
    }
    expect(resolveCustom(registry, { kind: 'rps', data: { commit: 'not hex' }, description: 'RPS' })).toMatchObject({ supported: false, reason: 'invalid-data' });
  });

  it('shows an unknown kind as an unsupported message, with a fallback when it has no description', () => {
    expect(resolveCustom(registry, { kind: 'poll', data: {}, description: '📊 Poll: lunch?' })).toEqual({ supported: false, reason: 'unknown-kind', description: '📊 Poll: lunch?' });
    expect(resolveCustom(registry, { kind: 'poll', data: {}, description: ' ' })).toMatchObject({ description: 'A message this app cannot show' });
  });

  it('describes a new message from its data, for previews and notifications', () => {
    expect(registry.get('red-packet')?.describe({ amount: 100, greeting: '' })).toBe('🧧 Red packet: Best wishes!');
    expect(registry.get('rps')?.describe({ commit })).toContain('Rock, paper, scissors');
  });

  it('trusts only the actions the kind declares, written by whom it allows, with data that passes', () => {
    const rps = registry.get('rps');
    if (rps === undefined) throw new Error('rps missing');
    const message = { from: 'alice', to: 'bob' };
    const checked = checkActions(rps, message, [
      { from: 'bob', name: 'move', data: { move: 'paper' }, ts: 2 },
      { from: 'alice', name: 'move', data: { move: 'rock' }, ts: 1 }, // the challenger cannot play the opponent's move
      { from: 'bob', name: 'reveal', data: { move: 'rock', salt: '0123456789abcdef0123456789abcdef' }, ts: 3 }, // nor the opponent reveal
      { from: 'bob', name: 'move', data: { move: 'lizard' }, ts: 4 },
      { from: 'mallory', name: 'move', data: { move: 'rock' }, ts: 5 },
      { from: 'bob', name: 'cheat', data: {}, ts: 6 },
      { from: 'alice', name: 'reveal', data: { move: 'rock', salt: '0123456789abcdef0123456789abcdef' }, ts: 7, pending: true },
    ]);
    expect(checked).toEqual([
      { from: 'bob', name: 'move', data: { move: 'paper' }, ts: 2, pending: false },
      { from: 'alice', name: 'reveal', data: { move: 'rock', salt: '0123456789abcdef0123456789abcdef' }, ts: 7, pending: true },
    ]);
  });

  it('lets only the recipient open a red packet', () => {
    const packet = registry.get('red-packet');
    if (packet === undefined) throw new Error('red-packet missing');
    const message = { from: 'alice', to: 'bob' };
    expect(checkActions(packet, message, [{ from: 'alice', name: 'open', data: {}, ts: 1 }])).toEqual([]);
    expect(checkActions(packet, message, [{ from: 'bob', name: 'open', data: {}, ts: 1 }])).toHaveLength(1);
  });
});
