/** The signed-in session as rune state; written by services/session.ts only. */
import type { Session } from '@parley/protocol';
import type { SyncHub } from '../sync/hub.ts';

class SessionState {
  /** False until the stored session has been read at start. */
  ready = $state(false);
  current = $state.raw<Session | null>(null);
  /** Why the user is looking at the sign-in screen, when it is not their choice. */
  reason = $state<string | null>(null);
  /** The sync hub that runs while signed in; App hands it to the screen's state (ConversationState). */
  hub = $state.raw<SyncHub | null>(null);

  get user(): string | null {
    return this.current?.user ?? null;
  }
}

export const session = new SessionState();
