/** History pages for the members of a conversation, against a real server and real SQLite. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@parley/protocol';
import { api, cleanup, signUp, startServer } from './helpers.ts';

afterEach(cleanup);

type Page = { messages: { id: string; seq: number; message: Message | null }[]; next: number | null; complete: boolean };

describe('member history', () => {
  it('pages a conversation for both members and nobody else', async () => {
    const server = await startServer();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const carol = await signUp(server.url, 'carol');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await api<{ id: string }>(server.url, 'POST', '/admin/messages', { from: i % 2 ? 'bob' : 'alice', to: i % 2 ? 'alice' : 'bob', body: [{ type: 'text', text: `m${i}` }] }, server.config.adminKey);
      ids.push(sent.body.id);
    }

    const first = await api<Page>(server.url, 'GET', '/conversations/bob/history?limit=2', undefined, alice.accessToken);
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.body).toMatchObject({ next: 2, complete: false });
    const rest = await api<Page>(server.url, 'GET', `/conversations/bob/history?limit=10&cursor=${first.body.next}`, undefined, alice.accessToken);
    expect(rest.body.messages.map((m) => m.id)).toEqual(ids.slice(2));
    expect(rest.body.complete).toBe(true);
    expect(rest.body.messages[0]?.message?.body).toEqual([{ type: 'text', text: 'm2' }]);

    // Bob sees the same conversation from his side.
    const asBob = await api<Page>(server.url, 'GET', '/conversations/alice/history', undefined, bob.accessToken);
    expect(asBob.body.messages.map((m) => m.id)).toEqual(ids);

    // Carol has no conversation with alice: an empty history, never alice and bob's.
    const asCarol = await api<Page>(server.url, 'GET', '/conversations/alice/history', undefined, carol.accessToken);
    expect(asCarol.body).toEqual({ messages: [], next: null, complete: true });

    expect((await api(server.url, 'GET', '/conversations/bob/history')).status).toBe(401);
    expect((await api(server.url, 'GET', '/conversations/nobody/history', undefined, alice.accessToken)).status).toBe(404);
    expect((await api(server.url, 'GET', '/conversations/alice/history', undefined, alice.accessToken)).status).toBe(404);
  });
});
