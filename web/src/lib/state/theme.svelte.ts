/**
 * Light, dark, or the system's (prefers-color-scheme, the default): the user
 * picks in Settings (the header's Theme button flips light and dark); the
 * choice is kept on the device, and "System" forgets it.
 */
const KEY = 'parley.theme';
export type ThemeMode = 'light' | 'dark' | 'system';
type Mode = ThemeMode;

class Theme {
  mode = $state<Mode>('system');
  systemDark = $state(false);

  get effective(): 'light' | 'dark' {
    return this.mode === 'system' ? (this.systemDark ? 'dark' : 'light') : this.mode;
  }

  start(): void {
    const saved = localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark') this.mode = saved;
    const media = matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = media.matches;
    media.addEventListener('change', (e) => {
      this.systemDark = e.matches;
      this.#apply();
    });
    this.#apply();
  }

  toggle(): void {
    this.set(this.effective === 'dark' ? 'light' : 'dark');
  }

  set(mode: Mode): void {
    this.mode = mode;
    if (mode === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, mode);
    this.#apply();
  }

  #apply(): void {
    document.documentElement.dataset.theme = this.effective;
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', this.effective === 'dark' ? '#111b21' : '#0b6e6e');
  }
}

export const theme = new Theme();
