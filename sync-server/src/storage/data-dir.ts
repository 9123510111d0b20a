/**
 * The data dir's own checks, made before the server takes a single write:
 * damage found at start stops it with a message that says how to restore,
 * instead of a server that fails later for one conversation, or one that
 * starts with an empty history on a data dir that held data.
 *
 * - `parley.lock`: held for as long as a server (or a restore) works on the
 *   data dir, as an exclusive SQLite lock (a POSIX lock the kernel drops when
 *   the process ends, so no stale lock survives a crash). A second server or a
 *   restore finds it taken and refuses.
 * - `data-dir.json`: the marker that this data dir holds data, written durably
 *   when the database is first opened; it holds an id that the database holds
 *   too (table `meta`). A marker (or a generated secret) without a database,
 *   or a database whose id is not the marker's, is damage or a mix-up.
 * - `PRAGMA quick_check` (or `integrity_check`) of the database.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeFileDurably } from './durable-files.ts';

export const DATABASE_FILE = 'parley.db';
export const MARKER_FILE = 'data-dir.json';
export const LOCK_FILE = 'parley.lock';
/** The files a first start generates beside the database (config.ts, push/vapid.ts). */
export const SECRET_FILES = ['jwt-secret', 'app-secret', 'admin-key', 'vapid.json'] as const;

/** PARLEY_STARTUP_CHECK: how much of the database is read at start (see config.ts). */
export type StartupCheck = 'quick' | 'full' | 'off';

/** The data dir is damaged or in use: the message says what to do (main.ts prints it without a stack). */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/** The command that restores `dataDir` from a backup, as the operator types it. */
export function restoreCommand(dataDir: string): string {
  return `PARLEY_DATA_DIR=${dataDir} npm run restore -- <backup directory>`;
}

/** Said after the restore command: where backups are, and the guide. */
export const RESTORE_GUIDE = 'npm run backup writes them under ./backups by default; see docs/operations.md';

/** The marker's contents. */
export interface Marker {
  id: string;
  created: string;
}

/**
 * Called before anything in the data dir is generated: a data dir whose
 * database is missing although its marker or secrets are there lost its
 * database (or is half restored); starting would begin an empty history.
 */
export function checkDatabasePresent(dataDir: string): void {
  if (existsSync(join(dataDir, DATABASE_FILE))) return;
  const found = [MARKER_FILE, ...SECRET_FILES].filter((name) => existsSync(join(dataDir, name)));
  if (found.length === 0) return;
  const firstStart = found.includes(MARKER_FILE)
    ? ''
    : ' (If this data dir never held messages, a first start that stopped early: delete those files to start afresh.)';
  throw new DataDirError(
    `${join(dataDir, DATABASE_FILE)} is missing, but this data dir held data (${found.join(', ')} found): starting would begin an empty history. ` +
      `Restore the latest backup with \`${restoreCommand(dataDir)}\` (${RESTORE_GUIDE}).${firstStart}`,
  );
}

/** A taken `parley.lock`; `release` lets the next server or restore in. */
export interface DataDirLock {
  release(): void;
}

/** Takes the data dir's lock, or refuses: `who` names the taker in the message (a server, a restore). */
export function lockDataDir(dataDir: string, who: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const db = new Database(file, { timeout: 0 });
  try {
    // No journal: nothing is ever written, and a journal file would be left behind by a crash.
    db.pragma('journal_mode = OFF');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    throw new DataDirError(`${dataDir} is in use by another process (a Parley server or a restore holds ${file}): stop it before starting ${who}`);
  }
  return { release: () => db.close() };
}

/**
 * Reads the whole database (`quick`: every page and b-tree, `full`: also
 * every index against its table) and refuses to go on if anything is wrong.
 * A large database takes a while: about a second per few hundred MB.
 */
export function checkDatabase(file: string, check: StartupCheck, dataDir: string): void {
  // A new data dir: there is nothing to check yet (checkDatabasePresent ran before).
  if (check === 'off' || !existsSync(file)) return;
  const problems = databaseProblems(file, check);
  if (problems.length === 0) return;
  throw new DataDirError(
    `${file} is damaged (${describeProblems(check, problems)}). ` +
      `Nothing was changed. Restore the latest backup with \`${restoreCommand(dataDir)}\` (it keeps the damaged file aside; ${RESTORE_GUIDE}).`,
  );
}

/** What `quick_check` (or `integrity_check` for `full`) finds wrong with a database file: nothing when it is sound. */
export function databaseProblems(file: string, check: 'quick' | 'full'): string[] {
  try {
    const db = new Database(file, { fileMustExist: true });
    try {
      const rows = db.pragma(check === 'full' ? 'integrity_check(20)' : 'quick_check(20)') as Record<string, string>[];
      // One row may hold several lines, under a header naming the schema.
      return rows
        .flatMap((row) => (Object.values(row)[0] ?? '').split('\n'))
        .filter((line) => line !== 'ok' && line !== '' && !line.startsWith('*** in database'));
    } finally {
      db.close();
    }
  } catch (error) {
    return [(error as Error).message];
  }
}

/** The first problems a check found, for a message. */
export function describeProblems(check: 'quick' | 'full', problems: readonly string[]): string {
  return `${check === 'full' ? 'integrity_check' : 'quick_check'}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`;
}

export function readMarker(dataDir: string): Marker | null {
  const file = join(dataDir, MARKER_FILE);
  if (!existsSync(file)) return null;
  try {
    const marker = JSON.parse(readFileSync(file, 'utf8')) as Partial<Marker> | null;
    if (typeof marker?.id === 'string' && marker.id !== '') return { id: marker.id, created: String(marker.created ?? '') };
  } catch {
    // reported below
  }
  throw new DataDirError(`${file} is damaged (it should hold this data dir's id, as parley.db does). Restore the latest backup with \`${restoreCommand(dataDir)}\`.`);
}

export function writeMarker(dataDir: string, id: string): void {
  const marker: Marker = { id, created: new Date().toISOString() };
  writeFileDurably(join(dataDir, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, 0o644);
}

/**
 * Checks the database's id against the marker: a data dir without a marker
 * (new, or from before markers) gets one; a marker with another id means the
 * database is not this data dir's.
 */
export function matchMarker(dataDir: string, databaseId: string): void {
  const marker = readMarker(dataDir);
  if (marker === null) return writeMarker(dataDir, databaseId);
  if (marker.id === databaseId) return;
  throw new DataDirError(
    `${join(dataDir, DATABASE_FILE)} belongs to another data dir (its id is ${databaseId}; ${MARKER_FILE} says ${marker.id}): it was copied in by hand, or the marker was. ` +
      `Nothing was changed. Put a backup in place with \`${restoreCommand(dataDir)}\`, which also writes the marker.`,
  );
}
