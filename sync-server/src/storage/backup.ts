/**
 * Backing up a data dir while its server runs, and restoring one.
 *
 * A backup is a directory: `parley.db`, a consistent copy made with SQLite's
 * online backup from a connection of its own (WAL lets it read one snapshot
 * while the server keeps committing), checked with quick_check, and the
 * generated secrets beside it (`jwt-secret`, `app-secret`, `admin-key`,
 * `vapid.json`: without vapid.json every device must subscribe to push again,
 * without app-secret the app backend's tokens fail). `media/` is not copied:
 * its files are named by their hash and never rewritten, so it is best
 * mirrored incrementally (rsync); a restore reports media the database names
 * that the data dir lacks.
 *
 * A restore takes the data dir's lock (refused while a server runs on it),
 * checks the backup's database, and puts it in place with one rename; the
 * database it replaces, with its -wal and -shm, is kept aside, never deleted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, DataDirError, databaseProblems, describeProblems, lockDataDir, SECRET_FILES, writeMarker } from './data-dir.ts';
import { makeDirectoryDurably, fsyncPath, writeFileDurably } from './durable-files.ts';
import { mediaFile } from './media-files.ts';
import { dataDirId, openDatabase } from './sqlite-db.ts';

export interface BackupDone {
  dir: string;
  /** The database's size in pages. */
  pages: number;
  /** The secrets copied beside it. */
  secrets: string[];
  /** Media files the database names (left out of the backup: see above). */
  media: number;
}

/** `backups/parley-<UTC time>`, the default destination. */
export function defaultBackupDir(now = new Date()): string {
  return join('backups', `parley-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
}

/**
 * Backs `dataDir` up into the new directory `dest`, which appears whole or
 * not at all (it is built under a temporary name and renamed).
 */
export async function backupDataDir(dataDir: string, dest: string): Promise<BackupDone> {
  const file = join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw new DataDirError(`${file} does not exist: PARLEY_DATA_DIR must name the data dir to back up`);
  const target = resolve(dest);
  if (existsSync(target)) throw new DataDirError(`${target} exists already: back up into a new directory`);
  makeDirectoryDurably(dirname(target));
  const temp = `${target}.partial-${randomBytes(4).toString('hex')}`;
  mkdirSync(temp, { mode: 0o700 });
  try {
    const copy = join(temp, DATABASE_FILE);
    const pages = await copyDatabase(file, copy);
    const problems = databaseProblems(copy, 'quick');
    if (problems.length > 0) {
      throw new DataDirError(`the copy of ${file} is damaged (${describeProblems('quick', problems)}): so is the database; stop the server and restore an earlier backup`);
    }
    const secrets = SECRET_FILES.filter((name) => existsSync(join(dataDir, name)));
    for (const name of secrets) writeFileDurably(join(temp, name), readFileSync(join(dataDir, name)));
    const media = countMedia(copy);
    fsyncPath(temp);
    renameSync(temp, target);
    fsyncPath(dirname(target));
    return { dir: target, pages, secrets, media };
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * SQLite's online backup from a read-only connection of its own. All pages in
 * one step, inside one read transaction: a consistent snapshot that the
 * server's commits (WAL) do not disturb; in small steps, each commit of the
 * server's would restart the copy.
 */
async function copyDatabase(file: string, copy: string): Promise<number> {
  const source = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const { totalPages } = await source.backup(copy, { progress: () => 0x7fffffff });
    fsyncPath(copy);
    return totalPages;
  } finally {
    source.close();
  }
}

export interface RestoreDone {
  /** Where the database the restore replaced was kept (null: the data dir had none). */
  keptAside: string | null;
  /** The secrets restored from the backup. */
  secrets: string[];
  messages: number;
  users: number;
  /** Media files the database names that `<data>/media` does not hold. */
  missingMedia: number;
}

/**
 * Restores `dataDir` from `source`: a backup directory (its database and
 * secrets) or a database file alone (the data dir keeps its secrets). Refused
 * while a server runs on the data dir, and for a backup whose database fails
 * quick_check; nothing in the data dir changes then.
 */
export async function restoreDataDir(dataDir: string, source: string): Promise<RestoreDone> {
  const fromDir = existsSync(source) && statSync(source).isDirectory();
  const backup = fromDir ? join(source, DATABASE_FILE) : source;
  if (!existsSync(backup)) throw new DataDirError(`${backup} does not exist: give a backup directory (made by npm run backup) or a database file`);
  makeDirectoryDurably(dataDir);
  const lock = lockDataDir(dataDir, 'a restore');
  try {
    const temp = join(dataDir, `.${DATABASE_FILE}.restoring-${randomBytes(4).toString('hex')}`);
    let facts: ReturnType<typeof prepare>;
    try {
      // Through SQLite, not as bytes: a database file given with its -wal (a copy of a stopped server's) brings its last commits.
      await copyDatabase(backup, temp).catch((error: unknown) => {
        throw new DataDirError(`${backup} cannot be read as a database (${(error as Error).message}): restore another backup. Nothing in the data dir was changed.`);
      });
      facts = prepare(temp, backup, dataDir);
    } catch (error) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
      throw error;
    }
    const keptAside = setAside(dataDir);
    renameSync(temp, join(dataDir, DATABASE_FILE));
    fsyncPath(dataDir);
    const secrets = fromDir ? SECRET_FILES.filter((name) => existsSync(join(source, name))) : [];
    for (const name of secrets) writeFileDurably(join(dataDir, name), readFileSync(join(source, name)));
    writeMarker(dataDir, facts.id);
    return { keptAside, secrets, messages: facts.messages, users: facts.users, missingMedia: facts.missingMedia };
  } finally {
    lock.release();
  }
}

/**
 * Checks the copy to be restored and readies it as the server opens it (its
 * tables brought up to date, its data-dir id given if it had none), then makes
 * it durable. The check runs on the copy: that is the file the server will use.
 */
function prepare(copy: string, backup: string, dataDir: string): { id: string; messages: number; users: number; missingMedia: number } {
  const problems = databaseProblems(copy, 'quick');
  if (problems.length > 0) throw new DataDirError(`${backup} is damaged (${describeProblems('quick', problems)}): restore another backup. Nothing in the data dir was changed.`);
  const db = openDatabase(copy);
  try {
    const count = (table: string): number => (db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n ?? 0);
    const root = join(dataDir, 'media');
    const missing = db
      .prepare<[], { hash: string }>('SELECT hash FROM media')
      .all()
      .filter((row) => !existsSync(mediaFile(root, row.hash))).length;
    return { id: dataDirId(db), messages: count('msg_index'), users: count('users'), missingMedia: missing };
  } finally {
    // Closing checkpoints the copy's write-ahead log into it and removes the log.
    db.close();
    fsyncPath(copy);
  }
}

/** Renames the data dir's database (and its -wal and -shm, which must never meet another database) aside; returns its new name. */
function setAside(dataDir: string): string | null {
  const file = join(dataDir, DATABASE_FILE);
  const aside = `${file}.before-restore-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  let moved = false;
  // The log files keep their suffix after the new name, so the kept database still opens with them.
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(file + suffix)) continue;
    renameSync(file + suffix, aside + suffix);
    moved ||= suffix === '';
  }
  return moved ? aside : null;
}

/** Media files the database names (read-write: closing the last connection leaves no -wal or -shm in the backup). */
function countMedia(file: string): number {
  const db = new Database(file, { fileMustExist: true });
  try {
    return db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM media').get()?.n ?? 0;
  } finally {
    db.close();
  }
}
