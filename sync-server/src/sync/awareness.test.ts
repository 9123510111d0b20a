import { afterEach, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { Presence, readAwarenessUpdate, type PresencePeer } from './awareness.ts';

const docs: Y.Doc[] = [];
afterEach(() => {
  for (const doc of docs.splice(0)) doc.destroy();
});

function presence(): { presence: Presence; awareness: awarenessProtocol.Awareness } {
  const doc = new Y.Doc();
  docs.push(doc);
  const awareness = new awarenessProtocol.Awareness(doc);
  awareness.setLocalState(null);
  return { presence: new Presence(awareness), awareness };
}

/** An awareness update as a client encodes it; a string state is sent as it is (not JSON-encoded again). */
function update(...entries: [client: number, clock: number, state: unknown][]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const [client, clock, state] of entries) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, typeof state === 'string' ? state : JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}

function decode(bytes: Uint8Array | null): [number, number, unknown][] {
  if (bytes === null) return [];
  const decoder = decoding.createDecoder(bytes);
  const out: [number, number, unknown][] = [];
  const n = decoding.readVarUint(decoder);
  for (let i = 0; i < n; i++) out.push([decoding.readVarUint(decoder), decoding.readVarUint(decoder), JSON.parse(decoding.readVarString(decoder))]);
  return out;
}

const peer = (user: string): PresencePeer & { sent: Uint8Array[] } => {
  const sent: Uint8Array[] = [];
  return { user, sent, send: (bytes) => void sent.push(bytes) };
};

describe('presence states', () => {
  it('keeps the known fields only, with the user set by the server', () => {
    const { presence: p, awareness } = presence();
    const alice = peer('alice');
    expect(p.receive(alice, update([1, 1, { here: 'bob', typing: null, user: 'mallory', avatar: 'x'.repeat(100) }]))).toEqual([]);
    expect(awareness.getStates().get(1)).toEqual({ here: 'bob', typing: null, user: 'alice' });
  });

  it('refuses a state over the byte limit, of the wrong shape, or not JSON, and keeps none of it', () => {
    const { presence: p, awareness } = presence();
    const alice = peer('alice');
    const refused = p.receive(
      alice,
      update(
        [1, 1, { typing: 'bob', junk: 'x'.repeat(2000) }],
        [2, 1, { typing: true }],
        [3, 1, ['typing']],
        [4, 1, '{not json'],
        [5, 1, { typing: 'x'.repeat(65) }],
        [6, 1, 'true'],
      ),
    );
    expect(refused).toEqual(['too-large', 'wrong-shape', 'wrong-shape', 'not-json', 'wrong-shape', 'wrong-shape']);
    expect(awareness.getStates().size).toBe(0);
    // They claimed nothing either.
    expect(p.ownedCount).toBe(0);
  });

  it('measures the limit in bytes of the JSON, as configured', () => {
    const { presence: p, awareness } = presence();
    p.limits = { maxBytes: 64, maxClients: 4 };
    const alice = peer('alice');
    expect(readAwarenessUpdate(update([1, 1, { typing: 'é'.repeat(30) }]), 64).refused).toEqual(['too-large']);
    expect(p.receive(alice, update([1, 1, { typing: 'bob' }]))).toEqual([]);
    expect(awareness.getStates().get(1)).toEqual({ typing: 'bob', user: 'alice' });
  });

  it("lets no other connection write or remove a client id's state, of another user or the same", () => {
    const { presence: p, awareness } = presence();
    const alice = peer('alice');
    const mallory = peer('mallory');
    const aliceElsewhere = peer('alice');
    p.receive(alice, update([7, 1, { typing: 'bob' }]));
    p.receive(mallory, update([7, 2, { typing: null }]));
    p.receive(mallory, update([7, 3, null]));
    p.receive(aliceElsewhere, update([7, 4, { here: 'bob' }]));
    expect(awareness.getStates().get(7)).toEqual({ typing: 'bob', user: 'alice' });
    // Its owner still can.
    p.receive(alice, update([7, 5, { typing: null }]));
    expect(awareness.getStates().get(7)).toEqual({ typing: null, user: 'alice' });
    p.receive(alice, update([7, 6, null]));
    expect(awareness.getStates().has(7)).toBe(false);
    // And still owns it: removing its state gives nobody the id.
    p.receive(mallory, update([7, 7, { typing: 'bob' }]));
    expect(awareness.getStates().has(7)).toBe(false);
  });

  it('lets a connection announce a few client ids at most', () => {
    const { presence: p, awareness } = presence();
    p.limits = { maxBytes: 1024, maxClients: 3 };
    const alice = peer('alice');
    p.receive(alice, update([1, 1, {}], [2, 1, {}], [3, 1, {}], [4, 1, {}]));
    expect([...awareness.getStates().keys()].sort()).toEqual([1, 2, 3]);
  });

  it('frees every state and client id of a connection when it is released', () => {
    const { presence: p, awareness } = presence();
    p.limits = { maxBytes: 1024, maxClients: 50 };
    const alice = peer('alice');
    p.receive(alice, update(...Array.from({ length: 50 }, (_, i): [number, number, unknown] => [i + 1, 1, { here: 'bob' }])));
    expect(awareness.getStates().size).toBe(50);
    p.release(alice, false);
    expect(awareness.getStates().size).toBe(0);
    expect(p.ownedCount).toBe(0);
    // The ids are free again.
    const bob = peer('bob');
    p.receive(bob, update([1, 5, { here: 'alice' }]));
    expect(awareness.getStates().get(1)).toEqual({ here: 'alice', user: 'bob' });
  });
});

describe('presence kept from a viewer', () => {
  it('shows a hidden state to nobody it is hidden from, withdraws it, and announces it again with a newer clock', () => {
    const { presence: p, awareness } = presence();
    let blocked = false;
    p.hidden = (owner, viewer) => blocked && owner === 'alice' && viewer === 'bob';
    const alice = peer('alice');
    const bob = peer('bob');
    p.receive(alice, update([1, 3, { here: 'bob' }]));
    expect(decode(p.initialFor(bob))).toEqual([[1, 3, { here: 'bob', user: 'alice' }]]);

    blocked = true;
    p.refresh([alice, bob]);
    // Bob sees her device leave, at the clock he holds; alice hears nothing.
    expect(bob.sent).toHaveLength(1);
    expect(alice.sent).toHaveLength(0);
    // Her next states reach him not at all, nor does a query show them, nor a new connection of his.
    expect(p.updateFor(bob, [1])).toBeNull();
    expect(decode(p.updateFor(bob))).toEqual([]);
    expect(p.initialFor(peer('bob'))).toBeNull();
    expect(decode(p.updateFor(alice, [1]))).toEqual([[1, 3, { here: 'bob', user: 'alice' }]]);

    blocked = false;
    const announced: number[][] = [];
    awareness.on('update', ({ updated }: { updated: number[] }) => announced.push(updated));
    p.refresh([alice, bob]);
    expect(announced).toEqual([[1]]);
    expect(decode(p.updateFor(bob, [1]))).toEqual([[1, 4, { here: 'bob', user: 'alice' }]]);
  });

  it('sends a viewer the removal of a state only if it was shown the state', () => {
    const { presence: p } = presence();
    p.hidden = (owner) => owner === 'alice';
    const alice = peer('alice');
    const bob = peer('bob');
    p.receive(alice, update([1, 1, { here: 'bob' }]));
    expect(p.initialFor(bob)).toBeNull();
    p.release(alice, false);
    expect(p.updateFor(bob, [1])).toBeNull();
  });
});
