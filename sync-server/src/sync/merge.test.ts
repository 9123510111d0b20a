import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { mergeParts, type Part } from './merge.ts';

/** Runs `change` on `doc` and returns the update it produced with the client ids it wrote. */
function partOf(doc: Y.Doc, change: () => void): Part {
  let part: Part | null = null;
  const listen = (update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    part = { update, clients: [...tr.afterState].filter(([c, clock]) => clock > (tr.beforeState.get(c) ?? 0)).map(([c]) => c) };
  };
  doc.on('update', listen);
  change();
  doc.off('update', listen);
  if (part === null) throw new Error('no update');
  return part;
}

function scenario(clientId: number, serverId: number, withDelete = false): { client: Part; server: Part; doc: Y.Doc } {
  const user = new Y.Doc();
  user.clientID = clientId;
  user.getMap('messages').set('m0', { id: 'm0' });
  const server = new Y.Doc();
  server.clientID = serverId;
  Y.applyUpdate(server, Y.encodeStateAsUpdate(user));
  const before = Y.encodeStateVector(user);
  user.transact(() => {
    user.getMap('messages').set('m1', { id: 'm1', body: 'hello' });
    user.getMap('receipts').set('u|read', { seq: 3 });
    if (withDelete) user.getMap('messages').delete('m0');
  });
  const clientPart = partOf(server, () => Y.applyUpdate(server, Y.encodeStateAsUpdate(user, before)));
  const serverPart = partOf(server, () =>
    server.transact(() => {
      server.getMap('seq').set('m1', 1);
      server.getMap('clients').set(String(serverId), { user: '@server' });
    }),
  );
  return { client: clientPart, server: serverPart, doc: server };
}

describe('merging the accept path updates', () => {
  for (const [name, clientId, serverId] of [
    ['server id below the client id', 900, 100],
    ['server id above the client id', 100, 900],
  ] as const) {
    it(`gives what Y.mergeUpdates gives, ${name}`, () => {
      const { client, server, doc } = scenario(clientId, serverId);
      const fast = mergeParts(client, server);
      expect(fast).toEqual(Y.mergeUpdates([client.update, server.update]));
      const replica = new Y.Doc();
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(fast)));
      Y.applyUpdate(replica, fast);
      expect(replica.getMap('seq').toJSON()).toEqual({ m1: 1 });
      expect(replica.getMap('messages').get('m1')).toEqual({ id: 'm1', body: 'hello' });
    });
  }

  it('falls back to Y.mergeUpdates when an update deletes', () => {
    const { client, server } = scenario(900, 100, true);
    expect(client.update.at(-1)).not.toBe(0);
    expect(mergeParts(client, server)).toEqual(Y.mergeUpdates([client.update, server.update]));
  });
});
