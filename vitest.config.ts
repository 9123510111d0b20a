import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['protocol/src/**/*.test.ts', 'sync-server/**/*.test.ts', 'web/src/**/*.test.ts', 'web/scripts/**/*.test.ts', 'bench/**/*.test.ts', 'e2e/cluster/**/*.test.ts'],
    // Vitest's default is one worker fewer than the cores: one, on this two-core machine. Most test
    // files wait on child processes, sockets and fsyncs rather than compute, so two run side by side.
    maxWorkers: 2,
    // Probes PostgreSQL and Redis once per run: their suites run when they are reachable (sync-server/test/services.ts).
    globalSetup: ['sync-server/test/services.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
