import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['protocol/src/**/*.test.ts', 'sync-server/**/*.test.ts', 'web/src/**/*.test.ts', 'bench/**/*.test.ts', 'e2e/cluster/**/*.test.ts'],
    // Vitest's default is one worker fewer than the cores: one, on this two-core machine. Most test
    // files wait on child processes, sockets and fsyncs rather than compute, so two run side by side.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
