/**
 * The app's backend refuses a message before it is sent
 * (PARLEY_CALLBACK_BEFORE_SEND): Alice sees it failed with the backend's own
 * words, and Bob never gets it; her next message goes through. A real HTTP
 * server on 127.0.0.1 plays the backend (let in by PARLEY_CALLBACK_ALLOW);
 * every answer: sync-server/test/callbacks-before.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DESKTOP, expect, PHONE, test as base } from '../fixtures.ts';

const REASON = 'Please keep it friendly: that word is not allowed here.';

interface Backend {
  origin: string;
  /** The texts it was asked about, in order. */
  asked: string[];
}

const test = base.extend<{ backend: Backend }>({
  backend: async ({}, use) => {
    const asked: string[] = [];
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MsgBody?: { MsgContent?: { Text?: string } }[] };
        const text = (call.MsgBody ?? []).map((e) => e.MsgContent?.Text ?? '').join(' ');
        asked.push(text);
        const refused = /\bdarn\b/i.test(text);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(refused ? { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: REASON } : { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await use({ origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
  serverEnv: async ({ backend }, use) => {
    await use({
      PARLEY_CALLBACK_URL: `${backend.origin}/im-callback`,
      PARLEY_CALLBACK_ALLOW: backend.origin,
      PARLEY_CALLBACK_BEFORE_SEND: 'on',
      PARLEY_CALLBACK_AFTER_SEND: 'off',
    });
  },
});

test("a message the app's backend refuses shows as failed with the backend's reason; the next one reaches Bob", async ({ parley, backend }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice', { viewport: DESKTOP, colorScheme: 'dark' });
  const bob = await parley.signedIn('bob', 'bob');

  await alice.startChat('bob', 'Bob');
  const rude = 'darn this train';
  await alice.send(rude);
  const bubble = alice.message(rude);
  await expect(bubble).toHaveAttribute('data-state', 'failed');
  await expect(bubble.getByRole('button', { name: 'Retry' })).toBeVisible();
  // The backend's words, at once: they say what to change.
  await expect(bubble.getByText(REASON)).toBeVisible();
  await alice.shot('callback-refused-desktop-dark');
  await alice.page.setViewportSize(PHONE);
  await expect(bubble.getByText(REASON)).toBeVisible();
  await alice.shot('callback-refused-phone-dark');

  const polite = 'the train is late again';
  await alice.send(polite);
  await expect(alice.message(polite)).not.toHaveAttribute('data-state', /pending|failed/);
  await bob.openConversation('alice', 'Alice');
  await expect(bob.messageTexts()).toHaveText([polite]);
  expect(backend.asked).toEqual([rude, polite]);
});
