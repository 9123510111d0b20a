/**
 * Playwright: real Chromium (Debian's) against a real Parley server.
 *
 * Every test starts its own server on port 0 with a fresh data directory
 * (see fixtures.ts), so tests share nothing and may run two at a time. They
 * serve the built app from dist/: `npm run test:e2e` builds first.
 *
 * `npm start` rebuilds dist/ and binds port 8080, so its spec runs alone, after
 * every other spec has finished with dist/. It is declared as the `app`
 * project's teardown rather than a dependent project because a dependent
 * project is skipped when a test before it fails, and a teardown is not.
 */
import { defineConfig } from '@playwright/test';

const CI = Boolean(process.env['CI']);

export default defineConfig<{ cluster: boolean }>({
  testDir: './specs',
  outputDir: '../test-results',
  globalSetup: './global-setup.ts',
  // The machine has two cores and each test runs a server and up to three browser contexts: two tests at
  // once kept the load near 12 and took each about twice as long (recall.spec 20 s against 10 s alone), so the
  // run took no less time, and clicks under that load went unanswered now and then (media.spec's download,
  // the red packet of screenshots-custom.spec: the click done, nothing happened). One at a time.
  workers: 1,
  fullyParallel: true,
  retries: 0,
  forbidOnly: CI,
  reporter: 'list',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  use: {
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    // A failed test keeps its trace (actions, DOM snapshots, network, console). Without the screencast:
    // recording frames all the time took half of a busy test's CPU on this two-core machine.
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'app', testIgnore: /npm-start\.spec\.ts/, teardown: 'npm-start' },
    // The chat spec, unchanged, against three processes on PostgreSQL and Redis behind HAProxy (deploy/haproxy.cfg).
    { name: 'cluster', testMatch: /chat\.spec\.ts/, use: { cluster: true } },
    { name: 'npm-start', testMatch: /npm-start\.spec\.ts/ },
  ],
});
