/**
 * Network and sync status for the banners. Offline means either the browser
 * says so or the server does not answer: after a reload without network,
 * browsers (and test harnesses) may still report navigator.onLine.
 */
import { clientEvents } from '../shared/events.ts';

class ConnectionState {
  browserOnline = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  /** Null until the first connection attempt of the inbox tells. */
  reachable = $state<boolean | null>(null);
  /** Catching up: conversations are syncing in the background. */
  syncing = $state(false);

  get online(): boolean {
    return this.browserOnline && this.reachable !== false;
  }
}

export const connection = new ConnectionState();

// The indicator follows the client's events, as an app embedding Parley would (docs/client-api.md).
clientEvents.on('sync', ({ state }) => {
  connection.syncing = state === 'started';
});
clientEvents.on('connection', ({ reachable }) => {
  connection.reachable = reachable;
});
