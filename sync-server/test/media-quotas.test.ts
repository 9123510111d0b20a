/**
 * What one user may hold on the server's disk, and the free-disk reserve,
 * against a real server with real files: quotas, pending uploads, expiry of
 * abandoned uploads, storage-full.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { API_PREFIX, conversationPath, UPLOAD_OFFSET_HEADER } from '@parley/protocol';
import { acks, api, cleanup, message, openDoc, rejects, send, signUp, startServer, storedDoc, synced, tempDir, thisSegment, waitFor, type TestServer } from './helpers.ts';
import { generated, MediaClient, sha256 } from './media-client.ts';

afterEach(cleanup);

type Refused = { error?: { code: string } };

async function withUsers(env: Record<string, string>, dataDir?: string) {
  const server = await startServer({ env, ...(dataDir === undefined ? {} : { dataDir }) });
  const alice = await signUp(server.url, 'alice');
  const bob = await signUp(server.url, 'bob');
  return { server, alice, bob, media: new MediaClient(server.url, alice.accessToken) };
}

const file = { kind: 'file' as const, peer: 'bob', mime: 'application/octet-stream' };

/** One-shot upload (POST /media) of `bytes`. */
async function oneShot(server: TestServer, token: string, bytes: Uint8Array, peer = 'bob'): Promise<{ status: number; body: Refused }> {
  const response = await fetch(`${server.url}${API_PREFIX}/media?kind=file&peer=${peer}&mime=application/octet-stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  return { status: response.status, body: (await response.json()) as Refused };
}

/** Polls `check` until it holds; fails with `what` after `timeout` ms. */
async function until(check: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Files waiting in <data>/uploads. */
const pendingFiles = (server: TestServer): string[] => readdirSync(join(server.dataDir, 'uploads'));

describe('media quota', () => {
  it('refuses an upload that would pass the quota when it starts, and again when it completes (its bytes deleted)', async () => {
    const { server, media } = await withUsers({ PARLEY_MEDIA_QUOTA_BYTES: '100000' });
    await media.upload(randomBytes(60_000), file);

    const tooBig = await media.create(randomBytes(50_000), file);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error?.code).toBe('quota-exceeded');
    expect(pendingFiles(server)).toEqual([]);

    // Each fits alone; together they do not: the second is refused when it completes.
    const [c, d] = [randomBytes(30_000), randomBytes(30_000)];
    const first = await media.create(c, file);
    const second = await media.create(d, file);
    expect([first.status, second.status]).toEqual([201, 201]);
    await media.resume(first.body.id, c);
    await media.resume(second.body.id, d);
    expect((await media.complete(first.body.id)).status).toBe(200);
    const refused = await media.complete(second.body.id);
    expect(refused.status).toBe(413);
    expect(refused.body.error?.code).toBe('quota-exceeded');
    expect(existsSync(join(server.dataDir, 'uploads', second.body.id))).toBe(false);
    expect((await media.status(second.body.id)).body.error?.code).toBe('upload-not-found');
    expect(existsSync(join(server.dataDir, 'media', sha256(d).slice(0, 2), sha256(d).slice(2, 4), sha256(d)))).toBe(false);

    // The one-shot upload is held to the same quota.
    const shot = await oneShot(server, media.token, randomBytes(20_000));
    expect(shot.status).toBe(413);
    expect(shot.body.error?.code).toBe('quota-exceeded');
  });

  it('charges a hash once per uploader: the same bytes again cost nothing, the same bytes by another user cost them', async () => {
    const { server, alice, bob } = await withUsers({ PARLEY_MEDIA_QUOTA_BYTES: '100000' });
    const bytes = randomBytes(80_000);
    expect((await oneShot(server, alice.accessToken, bytes)).status).toBe(201);
    // 80 KB more would pass 100 KB, were it counted again.
    expect((await oneShot(server, alice.accessToken, bytes)).status).toBe(201);
    const again = await new MediaClient(server.url, alice.accessToken).create(bytes, file);
    expect(again.status).toBe(200);

    const bobs = new MediaClient(server.url, bob.accessToken);
    await bobs.upload(randomBytes(30_000), { ...file, peer: 'alice' });
    // Stored already (by alice), but bob may not read it: he proves he has it by sending it, and it is his to pay.
    const refused = await bobs.create(bytes, { ...file, peer: 'alice' });
    expect(refused.status).toBe(413);
    expect(refused.body.error?.code).toBe('quota-exceeded');
  });
});

describe('uploads in progress', () => {
  it('caps how many uploads a user has in progress; finishing or cancelling one makes room', async () => {
    const { server, bob, media } = await withUsers({ PARLEY_MAX_PENDING_UPLOADS: '3' });
    const blobs = Array.from({ length: 4 }, () => randomBytes(1000));
    const started = [];
    for (const b of blobs.slice(0, 3)) started.push((await media.create(b, file)).body.id);
    const fourth = await media.create(blobs[3] ?? new Uint8Array(), file);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error?.code).toBe('too-many-uploads');
    // One-shot uploads count while they stream.
    expect((await oneShot(server, media.token, randomBytes(1000))).body.error?.code).toBe('too-many-uploads');
    // Per user: bob is not held back by alice's uploads.
    expect((await new MediaClient(server.url, bob.accessToken).create(randomBytes(1000), { ...file, peer: 'alice' })).status).toBe(201);

    await fetch(`${server.url}${API_PREFIX}/uploads/${started[0]}`, { method: 'DELETE', headers: { authorization: `Bearer ${media.token}` } });
    expect((await media.create(blobs[3] ?? new Uint8Array(), file)).status).toBe(201);
    expect((await media.create(randomBytes(1000), file)).status).toBe(429);
    await media.resume(started[1] ?? '', blobs[1] ?? new Uint8Array());
    expect((await media.complete(started[1] ?? '')).status).toBe(200);
    expect((await media.create(randomBytes(1000), file)).status).toBe(201);
  });

  it('counts a one-shot upload as in progress while it streams', async () => {
    const { server, media } = await withUsers({ PARLEY_MAX_PENDING_UPLOADS: '1' });
    // 20 MB at one 64 KB chunk per 50 ms: it streams far longer than this test runs, until cut off.
    const body = generated(20 * 1024 * 1024, 0, 50);
    const req = httpRequest(`${server.url}${API_PREFIX}/media?kind=file&peer=bob&mime=application/octet-stream`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${media.token}`, 'content-type': 'application/octet-stream' },
    });
    req.on('error', () => undefined);
    body.pipe(req);
    try {
      // Its bytes go to a temporary file once the server has counted it.
      await waitFor(() => pendingFiles(server).some((name) => name.endsWith('.part')), 'the one-shot upload to stream');
      const created = await media.create(randomBytes(100), file);
      expect(created.status).toBe(429);
      expect(created.body.error?.code).toBe('too-many-uploads');
    } finally {
      req.destroy();
      body.destroy();
    }
    await until(async () => (await media.create(randomBytes(100), file)).status === 201, 'room once the one-shot upload broke off');
  });

  it('caps the bytes the uploads in progress declare together', async () => {
    const { media } = await withUsers({ PARLEY_MAX_PENDING_UPLOAD_BYTES: '100000' });
    expect((await media.create(randomBytes(60_000), file)).status).toBe(201);
    const over = await media.create(randomBytes(50_000), file);
    expect(over.status).toBe(429);
    expect(over.body.error?.code).toBe('too-many-uploads');
    expect((await media.create(randomBytes(40_000), file)).status).toBe(201);
  });
});

describe('abandoned uploads', () => {
  it('deletes an upload that received nothing for the expiry, with its file; the client then starts again', async () => {
    const { server, media } = await withUsers({ PARLEY_UPLOAD_EXPIRY_MS: '1000' });
    const bytes = randomBytes(5000);
    const { body: created } = await media.create(bytes, file);
    expect((await media.put(created.id, 0, bytes.subarray(0, 1000))).status).toBe(200);
    const path = join(server.dataDir, 'uploads', created.id);
    expect(existsSync(path)).toBe(true);

    let code: string | undefined;
    const deadline = Date.now() + 20_000;
    while (code !== 'upload-not-found') {
      if (Date.now() > deadline) throw new Error('the abandoned upload never expired');
      code = (await media.status(created.id)).body.error?.code;
      if (code !== 'upload-not-found') await new Promise((r) => setTimeout(r, 100));
    }
    // The row goes first, then the file (a crash between them leaves only a file, which the next start deletes):
    // the status may say not-found a moment before the file is gone.
    await until(() => Promise.resolve(!existsSync(path)), "the abandoned upload's file deleted");
    const late = await media.put(created.id, 1000, bytes.subarray(1000));
    expect(late.status).toBe(404);
    expect(late.body.error?.code).toBe('upload-not-found');
    // Starting again works (and the expired upload no longer counts as in progress).
    expect((await media.upload(bytes, file)).media.size).toBe(5000);
  });

  it('expires by the last byte written, not by creation, and sweeps at start', async () => {
    const dataDir = tempDir();
    const hour = 3600_000;
    const first = await withUsers({ PARLEY_UPLOAD_EXPIRY_MS: String(hour) }, dataDir);
    const [old, busy] = [randomBytes(3000), randomBytes(3000)];
    const idle = (await first.media.create(old, file)).body.id;
    const active = (await first.media.create(busy, file)).body.id;
    expect((await first.media.put(active, 0, busy.subarray(0, 1000))).status).toBe(200);
    await first.server.parley.close();

    // Both were created two hours ago; only `active` received bytes since, an hour ago minus a minute.
    const db = new Database(join(dataDir, 'parley.db'));
    const now = Date.now();
    db.prepare('UPDATE uploads SET created = ?, written = ?').run(now - 2 * hour, now - 2 * hour);
    db.prepare('UPDATE uploads SET written = ? WHERE id = ?').run(now - hour + 60_000, active);
    db.close();

    const second = await startServer({ dataDir, env: { PARLEY_UPLOAD_EXPIRY_MS: String(hour) } });
    const media = new MediaClient(second.url, first.media.token);
    expect((await media.status(idle)).body.error?.code).toBe('upload-not-found');
    expect(existsSync(join(dataDir, 'uploads', idle))).toBe(false);
    expect((await media.status(active)).body).toMatchObject({ id: active, received: 1000 });
    await media.resume(active, busy);
    expect((await media.complete(active)).status).toBe(200);
  });
});

describe('free-disk reserve', () => {
  /** A reserve no disk can keep: more than the whole file system. */
  const aboveTheDisk = (dir: string): string => {
    const fs = statfsSync(dir);
    return String(fs.blocks * fs.bsize + 1024 ** 3);
  };

  it('refuses uploads and new messages with storage-full below the reserve, stores and delivers nothing, and takes the retried message once there is room', async () => {
    const dataDir = tempDir();
    // Room at first: an upload starts and gets its first chunk.
    const roomy = await withUsers({}, dataDir);
    const bytes = randomBytes(3000);
    const started = (await roomy.media.create(bytes, file)).body.id;
    expect((await roomy.media.put(started, 0, bytes.subarray(0, 1000))).status).toBe(200);
    const { alice, bob } = roomy;
    await roomy.server.parley.close();

    const full = await startServer({ dataDir, env: { PARLEY_MIN_FREE_DISK_BYTES: aboveTheDisk(dataDir) } });
    const media = new MediaClient(full.url, alice.accessToken);
    const created = await media.create(randomBytes(1000), file);
    expect(created.status).toBe(507);
    expect(created.body.error?.code).toBe('storage-full');
    const chunk = await media.put(started, 1000, bytes.subarray(1000));
    expect(chunk.status).toBe(507);
    expect(chunk.body.error?.code).toBe('storage-full');
    expect(chunk.headers.get(UPLOAD_OFFSET_HEADER)).toBe('1000');
    expect((await oneShot(full, alice.accessToken, randomBytes(1000))).status).toBe(507);
    expect(pendingFiles(full)).toEqual([started]);

    const path = conversationPath('alice', 'bob', thisSegment());
    const watcher = openDoc(full, path, bob.accessToken);
    const sender = openDoc(full, path, alice.accessToken);
    await synced(watcher);
    await synced(sender);
    const m = message('alice', 'bob', 'while the disk is full');
    send(sender, m);
    await waitFor(() => rejects(sender).length > 0, 'the refusal');
    expect(rejects(sender)).toEqual([expect.objectContaining({ code: 'storage-full', msgIds: [m.id] })]);
    expect(acks(sender)).toEqual([]);

    const admin = (route: string, body: unknown) => api<Refused>(full.url, 'POST', `/admin${route}`, body, full.config.adminKey);
    const sent = await admin('/messages', { from: 'alice', to: 'bob', type: 'text', body: [{ type: 'text', text: 'admin' }] });
    expect(sent.status).toBe(507);
    expect(sent.body.error?.code).toBe('storage-full');
    const imported = await admin('/messages/import', { messages: [{ id: 'imp1', from: 'alice', to: 'bob', body: [{ type: 'text', text: 'old' }], ts: Date.now() }] });
    expect(imported.status).toBe(507);
    expect(watcher.doc.getMap('messages').has(m.id)).toBe(false);
    watcher.destroy();
    sender.destroy();
    await full.parley.close();
    expect((await storedDoc(dataDir, path)).getMap('messages').size).toBe(0);

    // Room again: the same message, sent again, is accepted and delivered; the upload resumes where it was.
    const again = await startServer({ dataDir });
    const bobSees = openDoc(again, path, bob.accessToken);
    const retry = openDoc(again, path, alice.accessToken);
    await synced(bobSees);
    await synced(retry);
    send(retry, m);
    await waitFor(() => acks(retry).includes(m.id), 'the ack of the retried message');
    await waitFor(() => bobSees.doc.getMap('messages').has(m.id), 'delivery to bob');
    const resumed = new MediaClient(again.url, alice.accessToken);
    await resumed.resume(started, bytes);
    expect((await resumed.complete(started)).status).toBe(200);
    expect((await resumed.create(randomBytes(1000), file)).status).toBe(201);
  });
});
