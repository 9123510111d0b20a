/** The signed-in session as rune state; written by services/session.ts only. */
import type { Session } from '@parley/protocol';

class SessionState {
  /** False until the stored session has been read at start. */
  ready = $state(false);
  current = $state.raw<Session | null>(null);
  /** Why the user is looking at the sign-in screen, when it is not their choice. */
  reason = $state<string | null>(null);

  get user(): string | null {
    return this.current?.user ?? null;
  }
}

export const session = new SessionState();
