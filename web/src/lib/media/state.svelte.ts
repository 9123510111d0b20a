/**
 * Upload progress of media messages, by message id, for the progress bar in
 * their bubbles. Progress lives in memory only: after a reload the server's
 * upload status says where to go on from (media/outbox.ts).
 */
import { SvelteMap } from 'svelte/reactivity';

export interface Progress {
  sent: number;
  total: number;
  /** Waiting for the network to come back, not moving. */
  waiting: boolean;
}

class Uploads {
  readonly #progress = new SvelteMap<string, Progress>();

  of(id: string): Progress | undefined {
    return this.#progress.get(id);
  }

  set(id: string, progress: Progress): void {
    this.#progress.set(id, progress);
  }

  clear(id: string): void {
    this.#progress.delete(id);
  }
}

export const uploads = new Uploads();
