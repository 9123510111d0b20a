/**
 * A Dexie live query as rune state: subscribed while some effect reads
 * `current`, unsubscribed when none does.
 */
import { liveQuery } from 'dexie';
import { createSubscriber } from 'svelte/reactivity';

export interface LiveOptions<T> {
  /**
   * Also read once at once when subscribed, for the first value: Dexie starts a live query a task
   * later (a timeout), so its reads would wait for whatever runs first (the screen being built)
   * instead of running beside it. The live query's values win over this one as soon as it has one.
   */
  eager?: boolean;
  /** The first value, already being read (by whoever knew the query first); used for the first subscription only. */
  first?: Promise<T> | undefined;
}

export class Live<T> {
  #value = $state.raw<T>(undefined as T);
  #loaded = $state(false);
  #subscribe: () => void;

  constructor(query: () => Promise<T>, initial: T, onError: (e: unknown) => void, options: LiveOptions<T> = {}) {
    this.#value = initial;
    let first = options.first;
    this.#subscribe = createSubscriber(() => {
      let live = false;
      let stopped = false;
      const read = first ?? (options.eager === true ? query() : undefined);
      first = undefined;
      if (read !== undefined) {
        read.then((value) => {
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
