import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cleanup, startServer, tempDir } from './helpers.ts';

afterEach(cleanup);

it('serves the built PWA with an SPA fallback and fitting cache headers', async () => {
  const dist = tempDir();
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Parley</title>');
  writeFileSync(join(dist, 'sw.js'), 'self.skipWaiting()');
  writeFileSync(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
  const { url } = await startServer({ staticDir: dist });

  const index = await fetch(`${url}/`);
  expect(index.status).toBe(200);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  expect(await index.text()).toContain('Parley');

  expect((await fetch(`${url}/sw.js`)).headers.get('cache-control')).toBe('no-cache');
  const asset = await fetch(`${url}/assets/app-abc123.js`);
  expect(asset.headers.get('cache-control')).toContain('immutable');

  const route = await fetch(`${url}/chat/bob`);
  expect(route.status).toBe(200);
  expect(route.headers.get('cache-control')).toBe('no-cache');
  expect(await route.text()).toContain('Parley');

  const api = await fetch(`${url}/api/v1/nope`);
  expect(api.status).toBe(404);
  expect(await api.json()).toEqual({ error: { code: 'not-found', message: expect.any(String) as string } });
});
