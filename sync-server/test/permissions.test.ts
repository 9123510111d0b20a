/**
 * The permission matrix: real clients through every cell of docs/permissions.md
 * (PERMISSION_CELLS, the table the doc is rendered from), each outcome checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationPath, PERMISSION_CELLS, type PermissionCell } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, synced, thisSegment, waitFor, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(cleanup);

const admin = <T = unknown>(method: string, path: string, body?: unknown) => api<T>(server.url, method, `/admin${path}`, body, server.config.adminKey);

/** Sends one message from `sender` to `recipient` through a real client; the outcome is the ack or the reject code. */
async function sendAsClient(sender: string, token: string, recipient: string): Promise<string> {
  const client = openDoc(server, conversationPath(sender, recipient, thisSegment()), token);
  await synced(client);
  const m = message(sender, recipient, 'hello');
  send(client, m);
  await waitFor(() => acks(client).includes(m.id) || rejects(client).some((r) => r.msgIds.includes(m.id)), `answer to ${m.id}`);
  const outcome = acks(client).includes(m.id) ? 'ok' : (rejects(client).find((r) => r.msgIds.includes(m.id))?.code ?? 'none');
  client.destroy();
  return outcome;
}

let n = 0;
async function cell(c: PermissionCell): Promise<string> {
  n++;
  const s = `s${n}`;
  const r = `r${n}`;
  const sender = await signUp(server.url, s);
  const recipient = await signUp(server.url, r);
  // Block first: by default blocking removes the friendship, and the cell wants both facts.
  if (c.blocked) expect((await api(server.url, 'PUT', `/blocklist/${s}`, undefined, recipient.accessToken)).status).toBe(200);
  if (c.friendship === 'both') expect((await admin('POST', '/friends', { user: s, friends: [r], bothWays: true })).status).toBe(200);
  if (c.friendship === 'sender-to-recipient') expect((await admin('POST', '/friends', { user: s, friends: [r] })).status).toBe(200);
  if (c.friendship === 'recipient-to-sender') expect((await admin('POST', '/friends', { user: r, friends: [s] })).status).toBe(200);
  if (c.actor === 'user') return sendAsClient(s, sender.accessToken, r);
  const sent = await admin<{ error?: { code: string } }>('POST', '/messages', { from: s, to: r, body: [{ type: 'text', text: 'as admin' }] });
  return sent.status === 201 ? 'ok' : (sent.body.error?.code ?? String(sent.status));
}

describe('permission matrix (docs/permissions.md)', () => {
  for (const messaging of ['open', 'friends'] as const) {
    it(`gives every cell its outcome with messaging ${messaging}`, async () => {
      expect((await admin('PUT', '/settings', { messaging, blocklistMode: 'reject' })).status).toBe(200);
      const cells = PERMISSION_CELLS.filter((c) => c.messaging === messaging);
      for (const c of cells) {
        const label = `${c.messaging} / ${c.friendship} / ${c.blocked ? 'blocked' : 'not blocked'} / ${c.actor}`;
        expect(await cell(c), label).toBe(c.outcome);
      }
    }, 60_000);
  }

  it('acks a blocked sender in silent mode but never stores or delivers the message', async () => {
    expect((await admin('PUT', '/settings', { messaging: 'open', blocklistMode: 'silent' })).status).toBe(200);
    const sender = await signUp(server.url, 'silent-s');
    const recipient = await signUp(server.url, 'silent-r');
    await api(server.url, 'PUT', '/blocklist/silent-s', undefined, recipient.accessToken);
    const watcher = openDoc(server, conversationPath('silent-s', 'silent-r', thisSegment()), recipient.accessToken);
    await synced(watcher);
    expect(await sendAsClient('silent-s', sender.accessToken, 'silent-r')).toBe('ok');
    await new Promise((r) => setTimeout(r, 100));
    expect(watcher.doc.getMap('messages').size).toBe(0);
    const history = await admin<{ messages: unknown[] }>('GET', '/history?a=silent-s&b=silent-r');
    expect(history.body.messages).toEqual([]);
    await admin('PUT', '/settings', { blocklistMode: 'reject' });
  });
});
