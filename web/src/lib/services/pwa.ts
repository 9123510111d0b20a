/**
 * The service worker, registered with workbox-window. A new version waits
 * until the user accepts the prompt: then it is told to skip waiting and the
 * page reloads once it controls.
 */
import { Workbox } from 'workbox-window';
import { update } from '../state/update.svelte.ts';
import { report } from './errors.ts';

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
  const wb = new Workbox('/sw.js', { scope: '/' });
  wb.addEventListener('waiting', () => {
    update.apply = () => {
      wb.addEventListener('controlling', () => window.location.reload());
      wb.messageSkipWaiting();
    };
    update.waiting = true;
  });
  wb.register().catch(report);
}
