/**
 * The server process: parse the configuration, start, stop cleanly on
 * SIGTERM/SIGINT (draining first: readiness 503 for PARLEY_DRAIN_MS, so a
 * proxy moves traffic away, then sockets closed with 1012 and storage
 * flushed; exit 0). A start refused for a reason the operator can act on (a bad
 * setting, a damaged data dir) exits 2 with one sentence that says what to do;
 * anything else is a bug and exits 1 with its stack.
 */
import { ConfigError, DataDirError, loadConfig, startParley } from './index.ts';

async function main(): Promise<void> {
  const parley = await startParley(loadConfig(process.env));
  // One JSON line that scripts and tests wait for (printed whatever the log level).
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: parley.port, url: parley.url })}\n`);

  const exitWhen = (stopped: Promise<void>): void => {
    stopped.then(
      () => process.exit(0),
      (error: unknown) => {
        parley.log.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  // The first signal drains (PARLEY_DRAIN_MS) and then closes; a second one (an impatient
  // Ctrl-C, a supervisor's repeat) closes at once, still in order: commits flushed, storage closed.
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    parley.log.info({ event: 'stopping', signal, drain: signals === 1 });
    exitWhen(signals === 1 ? parley.stop() : parley.close());
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirError) {
    process.stderr.write(`parley: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`parley: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
