/** The server process: parse the configuration, start, stop cleanly on SIGTERM/SIGINT. */
import { ConfigError, loadConfig, startParley } from './index.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`parley: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const parley = await startParley(config);
  // One JSON line that scripts and tests wait for (printed whatever the log level).
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: parley.port, url: parley.url })}\n`);

  const stop = (signal: string): void => {
    parley.log.info({ event: 'stopping', signal });
    parley.close().then(
      () => process.exit(0),
      (error: unknown) => {
        parley.log.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`parley: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
