/**
 * Whether this process is shutting down: from the stop signal until it exits
 * (main.ts; Parley.stop in index.ts). Readiness (GET /api/v1/ready) answers
 * 503 `draining` from then on, so a proxy's health check takes the process
 * out of rotation and sends new requests and sockets to the others while
 * this one still serves the ones it holds (PARLEY_DRAIN_MS).
 */
export class Drain {
  #since: number | null = null;

  /** When draining began (ms since the epoch), or null while the process serves. */
  get since(): number | null {
    return this.#since;
  }

  /** Starts draining; a second call keeps the first time. */
  start(): void {
    this.#since ??= Date.now();
  }
}
