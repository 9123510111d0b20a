/** Notifications on this device, as rune state; written by push/push.ts only. */

/** `needs-home-screen`: iOS and iPadOS give Web Push only to an app added to the Home Screen. */
export type PushSupport = 'available' | 'needs-home-screen' | 'unavailable';

class PushState {
  support = $state<PushSupport>('unavailable');
  permission = $state<NotificationPermission>('default');
  /** This device holds a subscription (and the server was told, as far as it could be). */
  subscribed = $state(false);
  /** Pushes carry the message text (sent to the server as `previews`). */
  previews = $state(true);
  busy = $state(false);
  /** Why the last change failed, in the person's words; shown beside the toggle. */
  problem = $state<string | null>(null);
  /** The one-time prompt was answered on this device (true until known, so it never flashes). */
  prompted = $state(true);

  get on(): boolean {
    return this.subscribed && this.permission === 'granted';
  }

  /** The one-time prompt has something to offer. */
  get offer(): boolean {
    return !this.prompted && !this.on && this.permission !== 'denied' && this.support !== 'unavailable';
  }
}

export const push = new PushState();
