/**
 * What the composer is doing besides writing a new message: quoting one
 * (a reply) or editing one of mine. The message menu (MessageActions) sets
 * it, the composer shows and clears it; one conversation is on screen at a
 * time, so one state is enough (the composer resets it when the peer changes).
 */
import type { ReplyRef } from '@parley/protocol';

class ComposeState {
  /** The message the next one quotes. */
  reply = $state.raw<ReplyRef | null>(null);
  /** My text message being edited, and the text it had. */
  editing = $state.raw<{ id: string; text: string } | null>(null);
  /** Bumped to ask the composer for focus (after Reply or Edit in a menu). */
  focusRequest = $state(0);

  startReply(reply: ReplyRef): void {
    this.editing = null;
    this.reply = reply;
    this.focusRequest++;
  }

  startEdit(id: string, text: string): void {
    this.reply = null;
    this.editing = { id, text };
    this.focusRequest++;
  }

  reset(): void {
    this.reply = null;
    this.editing = null;
  }
}

export const compose = new ComposeState();
