/**
 * `npm run backup [-- <destination>]`: backs the data dir (PARLEY_DATA_DIR,
 * default ./data) up into a new directory, default
 * `./backups/parley-<UTC time>`, while the server runs. See storage/backup.ts
 * for what it holds and docs/operations.md for how to use it.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dataDirOf } from '../config.ts';
import { backupDataDir, defaultBackupDir } from '../storage/backup.ts';
import { DataDirError } from '../storage/data-dir.ts';

const { positionals } = parseArgs({ allowPositionals: true });
if (positionals.length > 1) {
  process.stderr.write('usage: npm run backup [-- <destination directory>]\n');
  process.exit(2);
}
const dataDir = dataDirOf(process.env);
try {
  const done = await backupDataDir(dataDir, resolve(positionals[0] ?? defaultBackupDir()));
  process.stdout.write(
    `backed up ${dataDir} into ${done.dir}: parley.db (${done.pages} pages, checked), ${done.secrets.join(', ') || 'no secret files'}.\n` +
      (done.media > 0 ? `media/ (${done.media} files) is not in the backup: copy it with e.g. rsync -a ${dataDir}/media/ <backup host>:parley-media/\n` : ''),
  );
} catch (error) {
  if (!(error instanceof DataDirError)) throw error;
  process.stderr.write(`backup: ${error.message}\n`);
  process.exit(2);
}
