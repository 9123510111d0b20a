/** Ephemeral: which peers are typing to me, and which have our conversation open, right now (from awareness; never stored). */
import { SvelteSet } from 'svelte/reactivity';

class Presence {
  readonly typing = new SvelteSet<string>();
  /** Peers with our conversation open on a device ("online" in the conversation's header). */
  readonly online = new SvelteSet<string>();

  set(peer: string, typing: boolean): void {
    if (typing) this.typing.add(peer);
    else this.typing.delete(peer);
  }

  setOnline(peer: string, online: boolean): void {
    if (online) this.online.add(peer);
    else this.online.delete(peer);
  }
}

export const presence = new Presence();
