/**
 * `npm run migrate -- --from <sqlite data dir> --to <postgres url>`: copies a
 * Parley install from SQLite into PostgreSQL and verifies the copy (see
 * migrate/migrate.ts and docs/deploy.md, "Moving an install to PostgreSQL").
 * Exits 0 when verified, 1 when the verification found a difference, 2 when
 * it refused to run (the message says why and what to do).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataDirError } from '../storage/data-dir.ts';
import { migrate, MigrateError } from '../migrate/migrate.ts';
import { formatSummary } from '../migrate/report.ts';

const USAGE = 'usage: npm run migrate -- --from <sqlite data dir> --to <postgres://user@host:port/database>\n';

let values: { from?: string; to?: string };
try {
  ({ values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } }));
} catch (error) {
  process.stderr.write(`migrate: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.from === undefined || values.to === undefined || !/^postgres(ql)?:\/\//.test(values.to)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
try {
  const summary = await migrate({ from: resolve(values.from), to: values.to, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(formatSummary(summary));
  process.exitCode = summary.ok ? 0 : 1;
} catch (error) {
  if (!(error instanceof MigrateError) && !(error instanceof DataDirError)) throw error;
  process.stderr.write(`migrate: ${error.message}\n`);
  process.exit(2);
}
