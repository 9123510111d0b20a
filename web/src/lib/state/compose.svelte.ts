/**
 * What the composer is doing besides writing a new message: quoting one
 * (a reply), editing one of mine, or picking any emoji to react to one with. The message menu (MessageActions) sets
 * it, the composer shows and clears it; one conversation is on screen at a
 * time, so one state is enough (the composer resets it when the peer changes).
 */
import type { ReplyRef } from '@parley/protocol';

class ComposeState {
  /** The message the next one quotes. */
  reply = $state.raw<ReplyRef | null>(null);
  /** My text message being edited, and the text it had. */
  editing = $state.raw<{ id: string; text: string } | null>(null);
  /** The message a reaction is being picked for ("More reactions": the emoji picker over the composer). */
  reacting = $state.raw<string | null>(null);
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

  startReaction(id: string): void {
    this.reacting = id;
  }

  reset(): void {
    this.reply = null;
    this.editing = null;
    this.reacting = null;
  }
}

export const compose = new ComposeState();
