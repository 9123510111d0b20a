/** Ephemeral: which peers are typing to me right now (from awareness; never stored). */
import { SvelteSet } from 'svelte/reactivity';

class Presence {
  readonly typing = new SvelteSet<string>();

  set(peer: string, typing: boolean): void {
    if (typing) this.typing.add(peer);
    else this.typing.delete(peer);
  }
}

export const presence = new Presence();
