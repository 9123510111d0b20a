/**
 * Where a word still is, for the tests that check it is gone (recall, account
 * deletion): in a page's IndexedDB (every store, bytes and Blobs decoded as
 * UTF-8) and in the server's files (every file of its data directory, the
 * SQLite WAL included).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from '@playwright/test';

/** Where the page's IndexedDB holds `word`: "<database>/<store>" once per value, searched through strings, bytes (as UTF-8) and Blobs. */
export function idbHits(page: Page, word: string): Promise<string[]> {
  return page.evaluate(async (needle) => {
    const hits: string[] = [];
    const decoder = new TextDecoder('utf-8', { fatal: false });
    const holds = async (value: unknown, seen: Set<unknown>): Promise<boolean> => {
      if (typeof value === 'string') return value.includes(needle);
      if (value === null || typeof value !== 'object' || seen.has(value)) return false;
      seen.add(value);
      if (value instanceof ArrayBuffer) return decoder.decode(new Uint8Array(value)).includes(needle);
      if (ArrayBuffer.isView(value)) return decoder.decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)).includes(needle);
      if (value instanceof Blob) return (await value.text()).includes(needle);
      const entries: [unknown, unknown][] = value instanceof Map ? [...(value as Map<unknown, unknown>).entries()] : value instanceof Set ? [...(value as Set<unknown>)].map((v) => [v, v]) : Object.entries(value);
      for (const [k, v] of entries) if ((await holds(k, seen)) || (await holds(v, seen))) return true;
      return false;
    };
    const request = <T,>(r: IDBRequest<T>): Promise<T> =>
      new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(new Error(String(r.error)));
      });
    for (const info of await indexedDB.databases()) {
      if (info.name === undefined) continue;
      const db = await request(indexedDB.open(info.name));
      for (const store of [...db.objectStoreNames]) {
        const tx = db.transaction(store, 'readonly');
        const [values, keys] = await Promise.all([request<unknown[]>(tx.objectStore(store).getAll()), request<IDBValidKey[]>(tx.objectStore(store).getAllKeys())]);
        for (const value of [...values, ...keys] as unknown[]) if (await holds(value, new Set())) hits.push(`${info.name}/${store}${typeof (value as { path?: unknown }).path === "string" ? ":" + String((value as { path?: unknown }).path) : ""}`);
      }
      db.close();
    }
    return hits;
  }, word);
}

/** The files of a directory tree whose bytes hold `word` (as UTF-8). */
export async function filesHolding(dir: string, word: string): Promise<string[]> {
  const needle = Buffer.from(word, 'utf8');
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await readFile(file).catch(() => null);
    if (bytes !== null && bytes.includes(needle)) found.push(path.relative(dir, file));
  }
  return found;
}
