/**
 * "typing…" in the conversation list: who is typing to whom is known from a
 * conversation document's awareness (a member's state `typing: <peer>`, its
 * `user` set by the server), which a device hears only while it has that
 * conversation open. The relay repeats it in the recipient's inbox awareness,
 * which every signed-in device holds open, as the server's own state
 * `{typing: [users]}`: the peers typing to the inbox's owner, over all of
 * their loaded conversations. A user hidden from the owner (a block, either
 * way: `hidden`) is never among them.
 */
import type { LiveDoc } from './live-doc.ts';

export class TypingRelay {
  /** Per inbox: who types to its owner, by the conversation document they type in. */
  private readonly typers = new Map<LiveDoc, Map<string, string>>();

  /** `hidden(typer, owner)`: whether the typer's presence is kept from the inbox's owner. */
  constructor(private readonly hidden: (typer: string, owner: string) => boolean = () => false) {}

  /** A conversation document's awareness changed (or it loaded, or who may see whom). */
  changed(conversation: LiveDoc): void {
    const states = [...conversation.awareness.getStates().values()] as { user?: unknown; typing?: unknown }[];
    for (const inbox of conversation.dependencies) {
      if (inbox.parsed.kind !== 'inbox') continue;
      const owner = inbox.parsed.user;
      const typer = states.find((s) => typeof s.user === 'string' && s.user !== owner && s.typing === owner && !this.hidden(s.user, owner))?.user as
        | string
        | undefined;
      this.set(inbox, conversation.path, typer);
    }
  }

  /** A conversation document unloads: nobody types in it any more. */
  gone(conversation: LiveDoc): void {
    for (const inbox of conversation.dependencies) this.set(inbox, conversation.path, undefined);
  }

  private set(inbox: LiveDoc, conversation: string, typer: string | undefined): void {
    let byConversation = this.typers.get(inbox);
    if (typer === undefined && byConversation?.has(conversation) !== true) return;
    if (byConversation === undefined) this.typers.set(inbox, (byConversation = new Map<string, string>()));
    if (typer === undefined) byConversation.delete(conversation);
    else byConversation.set(conversation, typer);
    if (byConversation.size === 0) this.typers.delete(inbox);
    if (inbox.destroyed) return;
    const typing = [...new Set(byConversation.values())].sort();
    const current = (inbox.awareness.getLocalState() as { typing?: string[] } | null)?.typing ?? [];
    if (typing.join('\n') === current.join('\n')) return;
    inbox.awareness.setLocalState(typing.length === 0 ? null : { typing });
  }
}
