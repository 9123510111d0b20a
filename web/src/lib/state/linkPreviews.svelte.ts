/**
 * Whether this device asks for link previews of what its user writes (on by
 * default): kept on the device, like the theme. Off, a link goes without a
 * card, and the server never fetches its page.
 */
const KEY = 'parley.linkPreviews';

class LinkPreviewSetting {
  on = $state(typeof localStorage === 'undefined' || localStorage.getItem(KEY) !== 'off');

  set(on: boolean): void {
    this.on = on;
    if (on) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, 'off');
  }
}

export const linkPreviews = new LinkPreviewSetting();
