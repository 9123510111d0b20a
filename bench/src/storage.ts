/** W5: what a server left on disk after a clean stop, and what it holds. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ServerKind } from './servers/launch.ts';

export interface DiskUsage {
  /** Bytes of the database files (main file, WAL, shared memory). */
  fileBytes: number;
  /** Bytes of Yjs data in the conversation documents' rows (updates + snapshots). */
  conversationBytes: number;
  /** Everything else the server stores for the same messages (inboxes, message index), bytes of payload. */
  otherBytes: number;
  detail: string;
}

export function diskUsage(kind: ServerKind, dataDir: string): DiskUsage | null {
  const files = readdirSync(dataDir).filter((f) => /\.(db|sqlite)(-wal|-shm|-journal)?$/.test(f));
  if (files.length === 0) return null;
  const fileBytes = files.reduce((sum, f) => sum + statSync(join(dataDir, f)).size, 0);
  const db = new Database(join(dataDir, kind === 'parley' ? 'parley.db' : 'hocuspocus.sqlite'), { readonly: true });
  try {
    const page = db.pragma('page_size', { simple: true }) as number;
    const free = (db.pragma('freelist_count', { simple: true }) as number) * page;
    const freeNote = `; free pages ${free} B of the file`;
    if (kind === 'parley') {
      const blob = (where: string): number => {
        const u = db.prepare<[], { n: number | null }>(`SELECT SUM(LENGTH(data)) AS n FROM updates WHERE ${where}`).get()?.n ?? 0;
        const s = db.prepare<[], { n: number | null }>(`SELECT SUM(LENGTH(data)) AS n FROM snapshots WHERE ${where}`).get()?.n ?? 0;
        return u + s;
      };
      const c2c = blob("doc LIKE 'c2c/%'");
      const inbox = blob("doc LIKE 'inbox/%'");
      const index = db.prepare<[], { rows: number; n: number | null }>(
        'SELECT COUNT(*) AS rows, SUM(LENGTH(conversation) + LENGTH(id) + LENGTH(sender) + LENGTH(segment) + 16) AS n FROM msg_index',
      ).get();
      return {
        fileBytes,
        conversationBytes: c2c,
        otherBytes: inbox + (index?.n ?? 0),
        detail: `conversation docs ${c2c} B, inbox docs ${inbox} B, msg_index ${index?.rows ?? 0} rows ≈ ${index?.n ?? 0} B${freeNote}`,
      };
    }
    const docs = db.prepare<[], { n: number | null; c: number }>('SELECT SUM(LENGTH(data)) AS n, COUNT(*) AS c FROM documents').get();
    return { fileBytes, conversationBytes: docs?.n ?? 0, otherBytes: 0, detail: `${docs?.c ?? 0} document rows, ${docs?.n ?? 0} B${freeNote}` };
  } finally {
    db.close();
  }
}
