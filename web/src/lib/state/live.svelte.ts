/**
 * A Dexie live query as rune state: subscribed while some effect reads
 * `current`, unsubscribed when none does.
 */
import { liveQuery } from 'dexie';
import { createSubscriber } from 'svelte/reactivity';

export class Live<T> {
  #value = $state.raw<T>(undefined as T);
  #loaded = $state(false);
  #subscribe: () => void;

  constructor(query: () => Promise<T>, initial: T, onError: (e: unknown) => void) {
    this.#value = initial;
    this.#subscribe = createSubscriber(() => {
      const subscription = liveQuery(query).subscribe({
        next: (value) => {
          this.#value = value;
          this.#loaded = true;
        },
        error: onError,
      });
      return () => subscription.unsubscribe();
    });
  }

  get current(): T {
    this.#subscribe();
    return this.#value;
  }

  get loaded(): boolean {
    this.#subscribe();
    return this.#loaded;
  }
}
