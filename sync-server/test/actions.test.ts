/** Actions on messages (`actions["<msgId>|<user>|<name>"]`) through the real accept path. */
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { actionKey, conversationPath, type MessageAction } from '@parley/protocol';
import { acks, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor } from './helpers.ts';

afterEach(cleanup);

describe('message actions', () => {
  it('accepts a member\'s action once, delivers it, and refuses it written again', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const path = conversationPath('alice', 'bob', thisSegment());
    const a = openDoc(server, path, alice.accessToken);
    const b = openDoc(server, path, bob.accessToken);
    await Promise.all([synced(a), synced(b)]);
    const packet = message('alice', 'bob', '', { type: 'custom', body: [{ type: 'custom', kind: 'red-packet', data: { amount: 5 }, description: 'A red packet' }] });
    send(a, packet);
    await waitFor(() => b.doc.getMap('seq').has(packet.id), 'the message at bob');

    const open: MessageAction = { msg: packet.id, from: 'bob', name: 'open', data: { got: 5 }, ts: Date.now() };
    const key = actionKey(packet.id, 'bob', 'open');
    b.doc.getMap('actions').set(key, open);
    await waitFor(() => a.doc.getMap('actions').has(key), 'the action at alice');
    expect(a.doc.getMap('actions').get(key)).toEqual(open);
    expect(b.frames.some((f) => f.type === 'ack')).toBe(true);

    // Another device of bob, not yet in step, writes it again.
    const other = openDoc(server, path, bob.accessToken, new Y.Doc());
    other.doc.getMap('actions').set(key, { ...open, data: { got: 500 } });
    await waitFor(() => rejects(other).length > 0, 'reject');
    expect(rejects(other)[0]?.code).toBe('duplicate-action');
    expect(acks(a)).toContain(packet.id);
  });
});
