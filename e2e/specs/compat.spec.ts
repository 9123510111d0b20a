/**
 * An app backend moves from the hosted service to Parley by changing its base
 * URL: its own signing code (the published UserSig v2 algorithm, written
 * again here, not Parley's) and its own REST calls, unchanged.
 *
 * What is real: the Parley server and its `/v4/` surface, the media fetched
 * from the backend's own file host (a real HTTP server on 127.0.0.1, allowed
 * by PARLEY_COMPAT_MEDIA_ALLOW), Bob's browsers signing in with a UserSig
 * from the link his app opens, the Web Push to his offline device (encrypted
 * by the server, decrypted by the test's push service: push-service.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PushPayload, type Session } from '@parley/protocol';
import { DESKTOP, expect, PHONE, test as base, type Device } from '../fixtures.ts';
import { PushService } from '../push-service.ts';
import { hostedUserSig } from '../../sync-server/test/hosted-usersig.ts';

const APP_ID = 1400000000;
const SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const PICTURE = readFileSync(new URL('../../web/public/icons/icon-512.png', import.meta.url));

/** The backend's signing code, as the hosted service publishes it (version 2). */
const genUserSig = (identifier: string): string => hostedUserSig({ sdkAppId: APP_ID, secretKey: SECRET_KEY, identifier, expire: 86400 * 180 });

const test = base.extend<{ files: { origin: string; hits: string[] }; service: PushService }>({
  files: async ({}, use) => {
    const hits: string[] = [];
    const server = createServer((request, response) => {
      hits.push(request.url ?? '');
      if (request.url !== '/uploads/beach.png') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': PICTURE.length }).end(PICTURE);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await use({ origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
  service: async ({}, use) => {
    const service = await PushService.start();
    try {
      await use(service);
    } finally {
      await service.close();
    }
  },
  serverEnv: async ({ files, service }, use) => {
    await use({ PARLEY_COMPAT_SDKAPPID: String(APP_ID), PARLEY_COMPAT_SECRET_KEY: SECRET_KEY, PARLEY_COMPAT_MEDIA_ALLOW: files.origin, PARLEY_PUSH_ALLOW: service.url });
  },
});

/** Opens the link Bob's app opens to sign him in to Parley in the browser. */
async function signInWithUserSig(device: Device, user: string): Promise<void> {
  await device.page.goto(`/#usersig=${encodeURIComponent(genUserSig(user))}&user=${encodeURIComponent(user)}`);
  await expect(device.conversationList()).toBeVisible();
  expect(new URL(device.page.url()).hash, 'the signature leaves the address bar').toBe('');
}

test('a backend signs a UserSig, imports accounts and a friendship, sends a text and an image through /v4/; Bob sees both, his offline device gets a push; history and an admin recall work', async ({ parley, files, service }) => {
  const v4 = async (call: string, body: unknown): Promise<Record<string, unknown>> => {
    const query = new URLSearchParams({ sdkappid: String(APP_ID), identifier: 'administrator', usersig: genUserSig('administrator'), random: String(Math.floor(Math.random() * 4294967295)), contenttype: 'json' });
    const response = await fetch(`${parley.url}/v4/${call}?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Record<string, unknown>;
    expect(answer, `${call} succeeds`).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    return answer;
  };

  await v4('im_open_login_svc/account_import', { UserID: 'alice', Nick: 'Alice Liddell' });
  await v4('im_open_login_svc/account_import', { UserID: 'bob', Nick: 'Bob' });
  for (const [from, to] of [['alice', 'bob'], ['bob', 'alice']] as const) {
    await v4('sns/friend_import', { From_Account: from, AddFriendItem: [{ To_Account: to, AddSource: 'AddSource_Type_Migration' }] });
  }
  expect(await v4('sns/friend_check', { From_Account: 'alice', To_Account: ['bob'], CheckType: 'CheckResult_Type_Both' })).toMatchObject({ InfoItem: [{ To_Account: 'bob', Relation: 'CheckResult_Type_BothWay' }] });

  // Bob's phone: his app signed in with a UserSig and subscribed to Web Push; it is closed now (no socket).
  const phoneResponse = await fetch(`${parley.url}/api/v1/auth/usersig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'bob', usersig: genUserSig('bob'), device: 'bob-phone-app' }) });
  expect(phoneResponse.status).toBe(200);
  const phone = (await phoneResponse.json()) as Session;
  const subscribed = await fetch(`${parley.url}/api/v1/push/subscription`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${phone.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(service.subscription('bob-phone')),
  });
  expect(subscribed.ok).toBe(true);

  // Bob's laptop: the browser, signed in from the link his app opens.
  const laptop = await parley.device('bob-laptop', { viewport: DESKTOP });
  await signInWithUserSig(laptop, 'bob');

  const text = await v4('openim/sendmsg', {
    SyncOtherMachine: 1,
    From_Account: 'alice',
    To_Account: 'bob',
    MsgRandom: 1287657,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Hello from the old backend' } }],
    OfflinePushInfo: { PushFlag: 0, Title: 'Alice (via the shop)', Desc: 'Hello from the old backend' },
  });
  const image = await v4('openim/sendmsg', {
    From_Account: 'alice',
    To_Account: 'bob',
    MsgRandom: 1287658,
    MsgBody: [{ MsgType: 'TIMImageElem', MsgContent: { UUID: 'beach', ImageFormat: 3, ImageInfoArray: [{ Type: 1, Size: PICTURE.length, Width: 512, Height: 512, URL: `${files.origin}/uploads/beach.png` }] } }],
  });
  expect(files.hits, 'the server fetched the picture once; no browser asked the file host').toEqual(['/uploads/beach.png']);

  await laptop.openConversation('alice', 'Alice Liddell');
  await expect(laptop.message('Hello from the old backend')).toBeVisible();
  const picture = laptop.messages().locator('img[src^="/api/v1/media/"]').first();
  await expect(picture).toBeVisible();
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth), { message: 'the picture loads from Parley' }).toBe(512);

  // The offline phone got a push for each, the text one with the title and text the backend chose.
  await expect.poll(() => service.to('bob-phone').length, { message: 'pushes reach the offline phone' }).toBeGreaterThanOrEqual(2);
  expect(service.errors).toEqual([]);
  const pushes = service.to('bob-phone').map((p) => PushPayload.parse(JSON.parse(p.json)));
  const textPush = pushes.find((p) => p.message.id === text.MsgKey);
  expect(textPush?.show).toEqual({ title: 'Alice (via the shop)', text: 'Hello from the old backend' });
  expect(pushes.some((p) => p.message.id === image.MsgKey && p.message.type === 'image')).toBe(true);

  // A new device of Bob's pulls the history.
  const tablet = await parley.device('bob-tablet', { viewport: PHONE });
  await signInWithUserSig(tablet, 'bob');
  await tablet.openConversation('alice', 'Alice Liddell');
  await expect(tablet.message('Hello from the old backend')).toBeVisible();

  // The archive: both messages, newest last, with their keys and bodies in the hosted format.
  const now = Math.floor(Date.now() / 1000);
  const roam = await v4('openim/admin_getroammsg', { Operator_Account: 'alice', Peer_Account: 'bob', MaxCnt: 100, MinTime: now - 600, MaxTime: now + 60 });
  expect(roam).toMatchObject({ Complete: 1, MsgCnt: 2 });
  const list = roam.MsgList as { MsgKey: string; From_Account: string; MsgRandom: number; MsgBody: { MsgType: string }[] }[];
  expect(list.map((m) => [m.MsgKey, m.From_Account, m.MsgRandom, m.MsgBody[0]?.MsgType])).toEqual([
    [text.MsgKey, 'alice', 1287657, 'TIMTextElem'],
    [image.MsgKey, 'alice', 1287658, 'TIMImageElem'],
  ]);

  // The backend recalls the text: both of Bob's open devices show the recall, and the archive says so.
  await v4('openim/admin_msgwithdraw', { From_Account: 'alice', To_Account: 'bob', MsgKey: text.MsgKey });
  for (const device of [laptop, tablet]) {
    await expect(device.messages().filter({ hasText: 'A message was recalled by an admin' })).toBeVisible();
    await expect(device.message('Hello from the old backend')).toHaveCount(0);
  }
  const after = await v4('openim/admin_getroammsg', { Operator_Account: 'alice', Peer_Account: 'bob', MaxCnt: 100, MinTime: now - 600, MaxTime: now + 60 });
  expect((after.MsgList as { MsgKey: string; MsgFlagBits: number }[]).find((m) => m.MsgKey === text.MsgKey)?.MsgFlagBits).toBe(2);
});
