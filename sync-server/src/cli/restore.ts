/**
 * `npm run restore -- <backup>`: puts a backup (a directory made by
 * `npm run backup`, or a database file alone) in place as the data dir's
 * database (PARLEY_DATA_DIR, default ./data). Refused while a server runs on
 * the data dir, and for a damaged backup. See storage/backup.ts.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dataDirOf } from '../config.ts';
import { restoreDataDir } from '../storage/backup.ts';
import { DataDirError } from '../storage/data-dir.ts';

const { positionals } = parseArgs({ allowPositionals: true });
const [source] = positionals;
if (positionals.length !== 1 || source === undefined) {
  process.stderr.write('usage: npm run restore -- <backup directory or database file>\n');
  process.exit(2);
}
const dataDir = dataDirOf(process.env);
try {
  const done = await restoreDataDir(dataDir, resolve(source));
  process.stdout.write(
    `restored ${resolve(source)} into ${dataDir}: ${done.users} users, ${done.messages} messages` +
      (done.secrets.length > 0 ? `; ${done.secrets.join(', ')}` : '; the data dir keeps its own secret files') +
      '.\n' +
      (done.keptAside === null ? '' : `The database it replaced is kept as ${done.keptAside} (delete it once the server runs well).\n`) +
      (done.missingMedia > 0 ? `${done.missingMedia} media files the database names are not in ${dataDir}/media: copy them back from your media copy.\n` : ''),
  );
} catch (error) {
  if (!(error instanceof DataDirError)) throw error;
  process.stderr.write(`restore: ${error.message}\n`);
  process.exit(2);
}
