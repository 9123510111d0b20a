/**
 * `window.parley`: a small client API for developers and tests.
 *
 *   parley.user                          the signed-in user id (null when signed out)
 *   await parley.send(peer, text)        sends like the composer; resolves to the message id
 *   await parley.dev.writeUnchecked(peer, message)
 *                                        writes a message object without the local check,
 *                                        to see how a server refusal shows
 */
import { session } from '../state/session.svelte.ts';
import { send, writeUnchecked } from './messaging.ts';

export interface ParleyApi {
  readonly user: string | null;
  send(peer: string, text: string): Promise<string>;
  dev: { writeUnchecked(peer: string, message: unknown): Promise<string> };
}

declare global {
  interface Window {
    parley: ParleyApi;
  }
}

export function exposeDevApi(): void {
  window.parley = {
    get user() {
      return session.user;
    },
    send,
    dev: { writeUnchecked },
  };
}
