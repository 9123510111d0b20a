/**
 * `window.parley`: a small client API for developers and tests.
 *
 *   parley.user, parley.on(…), parley.send(…), parley.search(…), …
 *                                        the client API (client.ts, docs/client-api.md)
 *   await parley.dev.writeUnchecked(peer, message)
 *                                        writes a message object without the local check,
 *                                        to see how a server refusal shows
 *   await parley.dev.refresh()           refreshes the access token now (as the timer
 *                                        would), to try several tabs refreshing at once
 */
import { client, type ParleyClient } from './client.ts';
import { writeUnchecked } from './lib/services/messaging.ts';
import { refresh } from './lib/services/session.ts';

export interface ParleyApi extends ParleyClient {
  dev: { writeUnchecked(peer: string, message: unknown): Promise<string>; refresh(): Promise<void> };
}

declare global {
  interface Window {
    parley: ParleyApi;
  }
}

export function exposeDevApi(): void {
  // The client API (client.ts, docs/client-api.md) with the developer's extras.
  const api = Object.create(client) as ParleyApi;
  api.dev = { writeUnchecked, refresh };
  window.parley = api;
}
