/**
 * The README's quick start: `npm start` on the repository builds the app and
 * serves it at http://localhost:8080 with its data in ./data.
 *
 * Runs alone, after the other specs (it rebuilds dist/ and binds port 8080;
 * see playwright.config.ts).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { Child, listeningPort, REPO_ROOT, withoutParleyEnv } from '../server.ts';

const DATA_DIR = path.join(REPO_ROOT, 'data');

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('npm start serves the app on http://localhost:8080 with its data in ./data', async () => {
  test.setTimeout(300_000);
  expect(await portInUse(8080), 'port 8080 is free before `npm start`').toBe(false);
  // Leave a developer's own ./data alone; remove it afterwards only if this test made it.
  const hadData = existsSync(DATA_DIR);

  const npm = new Child('npm', ['start'], { cwd: REPO_ROOT, env: withoutParleyEnv(process.env) });
  try {
    const port = await npm.waitForLine(listeningPort, 240_000, 'listening line from `npm start`');
    expect(port).toBe(8080);

    const response = await fetch('http://localhost:8080/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/<!doctype html>/i);
    expect(html).toContain('<title>Parley');
    expect(html).toMatch(/<script[^>]+type="module"/);
    expect(html).toContain('manifest');

    const health = await fetch('http://localhost:8080/api/v1/health');
    expect(await health.json()).toEqual({ ok: true });

    expect(existsSync(path.join(DATA_DIR, 'parley.db')), './data/parley.db exists').toBe(true);
  } finally {
    const { graceful } = await npm.stop(15_000);
    if (!hadData) await rm(DATA_DIR, { recursive: true, force: true });
    if (!graceful) console.warn(`npm start did not stop on SIGTERM within 15 s; output:\n${npm.output}`);
  }
  expect(await portInUse(8080), 'port 8080 is released after SIGTERM').toBe(false);
});
