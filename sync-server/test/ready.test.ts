/**
 * GET /api/v1/ready says whether the server takes writes: 200 while it does,
 * 503 with a reason per cause while it refuses them. (A failed commit's
 * reason, storage-full until a probe commits, is checked against a full file
 * system in disk-full.test.ts.)
 */
import { statfsSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import type { ReadyResult } from '@parley/protocol';
import { api, cleanup, startServer, tempDir } from './helpers.ts';

afterEach(cleanup);

it('is ready while the server takes writes, and says storage-full (503) while free space is below the reserve', async () => {
  const roomy = await startServer();
  const ready = await api<ReadyResult>(roomy.url, 'GET', '/ready');
  expect(ready).toEqual({ status: 200, body: { ready: true, reasons: [] } });
  expect((await api(roomy.url, 'GET', '/health')).status).toBe(200);

  const dataDir = tempDir();
  const disk = statfsSync(dataDir);
  const before = Date.now();
  const full = await startServer({ dataDir, env: { PARLEY_MIN_FREE_DISK_BYTES: String(disk.blocks * disk.bsize + 1024 ** 3) } });
  const notReady = await api<ReadyResult>(full.url, 'GET', '/ready');
  expect(notReady.status).toBe(503);
  expect(notReady.body.ready).toBe(false);
  expect(notReady.body.reasons).toEqual([{ code: 'storage-full', since: expect.any(Number) as number, message: expect.stringContaining('PARLEY_MIN_FREE_DISK_BYTES') as string }]);
  expect(notReady.body.reasons[0]?.since).toBeGreaterThanOrEqual(before);
  // Liveness stays: the process serves.
  expect((await api(full.url, 'GET', '/health')).status).toBe(200);
});
