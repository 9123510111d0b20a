/**
 * A Dexie live query as rune state: subscribed while some effect reads
 * `current`, unsubscribed when none does.
 */
import { liveQuery } from 'dexie';
import { createSubscriber } from 'svelte/reactivity';

export interface LiveOptions {
  /**
   * Also read once at once when subscribed, for the first value: Dexie starts a live query a task
   * later (a timeout), so its reads would wait for whatever runs first (the screen being built)
   * instead of running beside it. The live query's values win over this one as soon as it has one.
   */
  eager?: boolean;
}

export class Live<T> {
  #value = $state.raw<T>(undefined as T);
  #loaded = $state(false);
  #subscribe: () => void;

  constructor(query: () => Promise<T>, initial: T, onError: (e: unknown) => void, options: LiveOptions = {}) {
    this.#value = initial;
    this.#subscribe = createSubscriber(() => {
      let live = false;
      let stopped = false;
      if (options.eager === true) {
        query().then((value) => {
          if (live || stopped) return;
          this.#value = value;
          this.#loaded = true;
        }, onError);
      }
      const subscription = liveQuery(query).subscribe({
        next: (value) => {
          live = true;
          this.#value = value;
          this.#loaded = true;
        },
        error: onError,
      });
      return () => {
        stopped = true;
        subscription.unsubscribe();
      };
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
