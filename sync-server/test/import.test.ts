/** The admin history import and the segment list, against a real server, real SQLite and real clients. */
import { afterEach, describe, expect, it } from 'vitest';
import { conversationPath, inboxPath, segmentOf, type InboxEntry, type Message, type SegmentList } from '@parley/protocol';
import { api, cleanup, openDoc, signUp, startServer, synced, waitFor, type TestServer } from './helpers.ts';

afterEach(cleanup);

type Imported = { imported: number; duplicates: number };

const importAs = (server: TestServer, body: unknown) => api<Imported & { error?: { code: string } }>(server.url, 'POST', '/admin/messages/import', body, server.config.adminKey);

/** `n` messages alternating between alice and bob, one a day from `start`. */
function history(n: number, start: number, prefix = 'h'): { id: string; from: string; to: string; body: { type: 'text'; text: string }[]; ts: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    from: i % 2 === 0 ? 'alice' : 'bob',
    to: i % 2 === 0 ? 'bob' : 'alice',
    body: [{ type: 'text' as const, text: `old message ${i}` }],
    ts: start + i * 24 * 3600_000,
  }));
}

async function setup() {
  const server = await startServer();
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  await api(server.url, 'PATCH', '/me', { nickname: 'Alice A.' }, alice.accessToken);
  return { server, alice, bob };
}

describe('history import', () => {
  it('lands messages in the segments of their times, in time order, and the segment list counts them', async () => {
    const { server, alice, bob } = await setup();
    const start = Date.UTC(2024, 0, 20);
    // 50 days from 20 January: January, February and March 2024; sent out of order.
    const messages = history(50, start).reverse();
    const result = await importAs(server, { messages });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ imported: 50, duplicates: 0 });

    const list = await api<SegmentList>(server.url, 'GET', '/conversations/bob/segments', undefined, alice.accessToken);
    expect(list.status).toBe(200);
    expect(list.body.segments).toEqual([
      { segment: '2024-01', count: 12, firstSeq: 1, lastSeq: 12 },
      { segment: '2024-02', count: 29, firstSeq: 13, lastSeq: 41 },
      { segment: '2024-03', count: 9, firstSeq: 42, lastSeq: 50 },
    ]);
    expect((await api<SegmentList>(server.url, 'GET', '/conversations/alice/segments', undefined, bob.accessToken)).body).toEqual(list.body);

    // The documents hold them with their ids, times, sequences and the sender's profile.
    const feb = openDoc(server, conversationPath('alice', 'bob', '2024-02'), bob.accessToken);
    await synced(feb);
    expect(feb.doc.getMap('messages').size).toBe(29);
    const h12 = feb.doc.getMap<Message>('messages').get('h12');
    expect(h12).toMatchObject({ id: 'h12', from: 'alice', to: 'bob', ts: start + 12 * 24 * 3600_000, profile: { nickname: 'Alice A.' } });
    expect(feb.doc.getMap<number>('seq').get('h12')).toBe(13);
    expect(segmentOf(h12?.ts ?? 0)).toBe('2024-02');
  });

  it('makes the newest message the inboxes\' last without unread counts when not live; a repeat is a no-op', async () => {
    const { server, alice, bob } = await setup();
    const messages = history(30, Date.UTC(2024, 5, 1));
    expect((await importAs(server, { messages })).body).toEqual({ imported: 30, duplicates: 0 });
    const bobInbox = openDoc(server, inboxPath('bob'), bob.accessToken);
    await synced(bobInbox);
    await waitFor(() => bobInbox.doc.getMap<InboxEntry>('conversations').has('alice'), 'inbox entry');
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')).toMatchObject({
      peer: 'alice',
      segment: '2024-06',
      lastSeq: 30,
      unread: 0,
      last: { id: 'h29', from: 'bob', preview: 'old message 29', seq: 30 },
    });

    const again = await importAs(server, { messages });
    expect(again.body).toEqual({ imported: 0, duplicates: 30 });
    // Half old, half new: only the new ones land, after the old ones.
    const mixed = await importAs(server, { messages: [...messages.slice(20), ...history(5, Date.UTC(2024, 6, 15), 'n')] });
    expect(mixed.body).toEqual({ imported: 5, duplicates: 10 });
    const list = await api<SegmentList>(server.url, 'GET', '/conversations/bob/segments', undefined, alice.accessToken);
    expect(list.body.segments).toEqual([
      { segment: '2024-06', count: 30, firstSeq: 1, lastSeq: 30 },
      { segment: '2024-07', count: 5, firstSeq: 31, lastSeq: 35 },
    ]);
    await waitFor(() => bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.last?.id === 'n4', 'inbox last moves');
    expect(bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.unread).toBe(0);
  });

  it('counts live imports as unread', async () => {
    const { server, bob } = await setup();
    const bobInbox = openDoc(server, inboxPath('bob'), bob.accessToken);
    await synced(bobInbox);
    const now = Date.now();
    const messages = [0, 1, 2].map((i) => ({ id: `live${i}`, from: 'alice', to: 'bob', body: [{ type: 'text', text: `live ${i}` }], ts: now - 10 + i }));
    expect((await importAs(server, { messages, live: true })).body).toEqual({ imported: 3, duplicates: 0 });
    await waitFor(() => bobInbox.doc.getMap<InboxEntry>('conversations').get('alice')?.unread === 3, 'unread count');
  });

  it('refuses more than 1,000 messages with too-many, unknown users, and callers without the admin key', async () => {
    const { server, alice } = await setup();
    const tooMany = await importAs(server, { messages: history(1001, Date.UTC(2024, 0, 1)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.code).toBe('too-many');
    const stranger = await importAs(server, { messages: [{ ...history(1, 0)[0], to: 'nobody' }] });
    expect(stranger.body.error?.code).toBe('user-not-found');
    const asUser = await api<{ error: { code: string } }>(server.url, 'POST', '/admin/messages/import', { messages: history(1, 0) }, alice.accessToken);
    expect(asUser.body.error.code).toBe('admin-required');
  });

  it('takes 1,000 messages in one call, and the segment list of a long conversation reads the index only', async () => {
    const { server, alice } = await setup();
    for (let call = 0; call < 3; call++) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({
        id: `b${call}x${i}`,
        from: i % 2 === 0 ? 'alice' : 'bob',
        to: i % 2 === 0 ? 'bob' : 'alice',
        body: [{ type: 'text' as const, text: `bulk ${call} ${i}` }],
        ts: Date.UTC(2023, call * 4, 1) + i * 3600_000,
      }));
      expect((await importAs(server, { messages })).body).toEqual({ imported: 1000, duplicates: 0 });
    }
    // After a restart, so that no document is in memory: the list is answered without loading one.
    await server.parley.close();
    const restarted = await startServer({ dataDir: server.dataDir });
    const list = await api<SegmentList>(restarted.url, 'GET', '/conversations/bob/segments', undefined, alice.accessToken);
    expect(list.body.segments.reduce((n, s) => n + s.count, 0)).toBe(3000);
    expect(list.body.segments.map((s) => s.segment)).toEqual(['2023-01', '2023-02', '2023-05', '2023-06', '2023-09', '2023-10']);
    expect(list.body.segments.at(-1)?.lastSeq).toBe(3000);
    for (const s of list.body.segments) expect(restarted.parley.hub.registry.isLoaded(conversationPath('alice', 'bob', s.segment))).toBe(false);
    expect((await api(restarted.url, 'GET', '/conversations/nobody/segments', undefined, alice.accessToken)).status).toBe(404);
    expect((await api(restarted.url, 'GET', '/conversations/bob/segments')).status).toBe(401);
  });
});
