/**
 * Install-wide settings (messaging mode, blocklist mode, whether blocking keeps
 * the friendship), loaded once at start and held in memory: the accept path
 * reads them per message, and a change applies to the next message.
 */
import { z } from 'zod';
import { DEFAULT_SETTINGS, type Settings } from '@parley/protocol';
import type { Storage } from '../storage/storage.ts';

export const SettingsSchema = z.object({
  messaging: z.enum(['open', 'friends']),
  blocklistMode: z.enum(['reject', 'silent']),
  blockKeepsFriendship: z.boolean(),
});
export const SettingsPatch = SettingsSchema.partial();

export class SettingsStore {
  private current: Settings = { ...DEFAULT_SETTINGS };
  private loading: Promise<void> | null = null;

  constructor(private readonly storage: Storage) {}

  load(): Promise<void> {
    return (this.loading ??= this.storage.settings().then((stored) => {
      // A stored value that no longer parses falls back to its default.
      const parsed = SettingsSchema.partial().safeParse(stored);
      if (parsed.success) this.current = { ...DEFAULT_SETTINGS, ...dropUndefined(parsed.data) };
    }));
  }

  /** Reads the settings again (another process of the cluster changed them). */
  reload(): Promise<void> {
    this.loading = null;
    return this.load();
  }

  /** Hears each change made here (a cluster tells the other processes). */
  onChange: () => void = () => undefined;

  get(): Settings {
    return { ...this.current };
  }

  async update(patch: z.infer<typeof SettingsPatch>): Promise<Settings> {
    const next = { ...this.current, ...dropUndefined(patch) };
    for (const key of Object.keys(next) as (keyof Settings)[]) {
      if (next[key] !== this.current[key]) await this.storage.putSetting(key, next[key]);
    }
    this.current = next;
    this.onChange();
    return this.get();
  }
}

function dropUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
