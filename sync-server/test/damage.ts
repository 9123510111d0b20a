/** Damaging a database file on purpose, the way a bad sector or a stray write would. */
import { closeSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * A leaf page of the conversation tables (not read at start), the one
 * nearest the middle of the file, so that the damage is found only by a check
 * of the whole file. Page numbers count from 1.
 */
export function middleLeafPage(file: string): { page: number; pages: number; size: number } {
  const db = new Database(file, { readonly: true });
  try {
    const size = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const leaves = db
      .prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name IN ('updates', 'snapshots', 'msg_index') AND pagetype = 'leaf'")
      .all()
      .map((row) => row.pageno);
    const page = leaves.sort((x, y) => Math.abs(x - pages / 2) - Math.abs(y - pages / 2))[0];
    if (page === undefined) throw new Error(`no leaf page of the conversation tables in ${file}`);
    return { page, pages, size };
  } finally {
    db.close();
  }
}

/** Overwrites one whole page of the file with a byte pattern no page holds (0xa5 is no b-tree page type). */
export function corruptPage(file: string, page: number, size: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, (page - 1) * size);
  } finally {
    closeSync(fd);
  }
}
