/**
 * Small files of the data dir (the generated secrets, the data dir's marker)
 * written so that a power cut leaves either the old file or the new one,
 * never an empty or half-written one. A plain write sits in the page cache for
 * seconds before the file system writes it back: a crash then leaves the file
 * empty (ext4's delayed allocation) although the process saw it written.
 *
 * The protocol: write a temporary file in the same directory, fsync it, rename
 * it onto the final name (atomic within one file system), fsync the directory
 * so that the rename itself is on disk.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Writes `data` to `file` atomically and durably (see above); `mode` applies to the new file. */
export function writeFileDurably(file: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = openSync(temp, 'wx', mode);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncPath(dir);
}

/** fsync a file, or a directory: what makes a file created, renamed or removed in it durable. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `mkdir -p`, and each directory it created made durable (an fsync of its
 * parent): a file later made durable inside a directory whose own entry was
 * lost in a power cut would be lost with it.
 */
export function makeDirectoryDurably(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = resolve(dir); ; created = dirname(created)) {
    fsyncPath(dirname(created));
    if (created === resolve(first)) return;
  }
}
