/**
 * The emoji picker's data and the recently used emoji. The data (~36 KB
 * gzipped) is a chunk of its own, loaded the first time the picker opens and
 * precached by the service worker, so it works offline and costs the first
 * load nothing. Recent emoji are remembered on this device (Dexie `meta`).
 */
import { getMeta, setMeta } from '../db.ts';
import { parseEmojiData, pushRecent, type EmojiGroup } from './emoji.ts';

const RECENT_KEY = 'recentEmoji';

let loading: Promise<EmojiGroup[]> | null = null;

export function loadEmoji(): Promise<EmojiGroup[]> {
  loading ??= import('./emoji-data.json').then((module) => parseEmojiData(module.default)).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

export async function recentEmoji(): Promise<string[]> {
  const value = await getMeta<unknown>(RECENT_KEY);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export async function rememberEmoji(char: string): Promise<string[]> {
  const next = pushRecent(await recentEmoji(), char);
  await setMeta(RECENT_KEY, next);
  return next;
}
