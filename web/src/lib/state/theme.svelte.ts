/**
 * Light or dark: follows prefers-color-scheme until the user picks one with
 * the Theme button; the choice is kept on the device.
 */
const KEY = 'parley.theme';
type Mode = 'light' | 'dark' | 'system';

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
    this.mode = this.effective === 'dark' ? 'light' : 'dark';
    localStorage.setItem(KEY, this.mode);
    this.#apply();
  }

  #apply(): void {
    document.documentElement.dataset.theme = this.effective;
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', this.effective === 'dark' ? '#111b21' : '#0b6e6e');
  }
}

export const theme = new Theme();
