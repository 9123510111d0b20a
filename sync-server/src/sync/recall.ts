/**
 * Recall erasure: after a recall (a client's or the admin's) the content
 * goes from the documents, the previews and the stored bytes, and the peer
 * loses access to the recalled media.
 */
import type * as Y from 'yjs';
import { conversationId, conversationPath, mediaOf, prefsPath, type Message } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { GroupCommit } from '../storage/group-commit.ts';
import type { Storage, Write } from '../storage/storage.ts';
import { conversationEvent, type HubEvents } from './events.ts';
import type { History } from './history.ts';
import { recallInInbox } from './inbox.ts';
import type { LiveDoc } from './live-doc.ts';
import type { LoadedConversations } from './loaded.ts';
import type { DocRegistry } from './registry.ts';

/** A recalled message, as it was before its content was deleted. */
export interface Recalled {
  message: Message;
  seq: number;
  by: string;
}

export class Recalls {
  constructor(
    private readonly storage: Storage,
    private readonly registry: DocRegistry,
    private readonly commit: GroupCommit,
    private readonly history: History,
    private readonly loaded: LoadedConversations,
    private readonly events: HubEvents,
  ) {}

  /**
   * Recalls a message (admin): the message key is deleted (its content goes
   * with it), and `recalls[id] = {by, ts}` is left as the marker devices show.
   */
  async recall(x: string, y: string, id: string, by: string): Promise<void> {
    const found = (await this.history.page(x, y, { from: 0, to: Number.MAX_SAFE_INTEGER, cursor: 0, limit: Number.MAX_SAFE_INTEGER }, false)).find((m) => m.id === id);
    if (found === undefined) throw new Refusal('message-not-found');
    const live = await this.registry.acquire(conversationPath(x, y, found.segment));
    try {
      const message = live.doc.getMap<Message>('messages').get(id);
      await live.write(() => {
        eraseContent(live.doc, id);
        live.doc.getMap('recalls').set(id, { by, ts: Date.now() });
      });
      if (message !== undefined) await this.afterRecall(live.path, [{ message, seq: found.seq, by }]);
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * Replaces a message's body (admin: the hosted service's modify_c2c_msg):
   * the new message goes into the same key, so every device shows it; media
   * it names are referenced for the conversation as a sent message's. A
   * recalled message stays recalled (message-recalled).
   */
  async modify(x: string, y: string, id: string, change: (message: Message) => Message): Promise<void> {
    const found = (await this.history.page(x, y, { from: 0, to: Number.MAX_SAFE_INTEGER, cursor: 0, limit: Number.MAX_SAFE_INTEGER }, false)).find((m) => m.id === id);
    if (found === undefined) throw new Refusal('message-not-found');
    const live = await this.registry.acquire(conversationPath(x, y, found.segment));
    try {
      if (live.doc.getMap('recalls').has(id)) throw new Refusal('message-recalled');
      const message = live.doc.getMap<Message>('messages').get(id);
      if (message === undefined) throw new Refusal('message-not-found');
      const next = change(message);
      // Its media references join the write; a changed body is no new message, so like history it queues no after-send callback.
      await live.write(() => live.doc.getMap('messages').set(id, next), this.events.writesFor({ message: next, conversation: conversationId(x, y), seq: found.seq, imported: true }));
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * Account deletion: recalls every message `user` sent in one segment
   * document of the pair's conversation that is not recalled yet, at most
   * `batch` per write (each write is followed by its erasure), as the
   * admin's recall does: the content and edits go, `recalls[id] = {by:
   * user}` stays. Idempotent: a message recalled already is skipped, so a
   * retry after a crash finishes the job. Resolves with how many it recalled.
   */
  async recallAllOf(x: string, y: string, segment: string, user: string, batch = 500): Promise<number> {
    const live = await this.registry.acquire(conversationPath(x, y, segment));
    let count = 0;
    try {
      const seqs = live.doc.getMap<number>('seq');
      for (;;) {
        const recalls = live.doc.getMap('recalls');
        const mine = [...live.doc.getMap<Message>('messages').values()].filter((m) => m.from === user && !recalls.has(m.id)).slice(0, batch);
        if (mine.length === 0) return count;
        const now = Date.now();
        await live.write(() => {
          for (const m of mine) {
            eraseContent(live.doc, m.id);
            recalls.set(m.id, { by: user, ts: now });
          }
        });
        await this.afterRecall(live.path, mine.map((message) => ({ message, seq: seqs.get(message.id) ?? 0, by: user })));
        count += mine.length;
      }
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * Account deletion: empties every root of a document (the deleted user's
   * prefs or inbox) and erases it from storage as a recall erases (the
   * snapshot of the garbage-collected, empty document replaces every stored
   * row). A server write: on the document's leader in a cluster.
   */
  async clearDocument(path: string): Promise<void> {
    const live = await this.registry.acquire(path);
    try {
      await live.write(() => {
        for (const name of [...live.doc.share.keys()]) {
          const map = live.doc.getMap(name);
          for (const key of [...map.keys()]) map.delete(key);
        }
      });
      await this.registry.erase([live]);
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * After a recall is durable: tells the observers (the recall push), replaces
   * the message's preview in both inboxes when it is their `last`, and erases
   * the old bytes from storage: the conversation document and both inboxes
   * are compacted from their garbage-collected state (see Storage.erase).
   */
  async afterRecall(docPath: string, recalled: readonly Recalled[]): Promise<void> {
    const live = await this.registry.acquire(docPath);
    try {
      for (const r of recalled) this.events.tell((o) => o.messageRecalled?.({ ...conversationEvent(live, [{ message: r.message, seq: r.seq }]), by: r.by }));
      if (live.parsed.kind === 'conversation') await this.revokeMedia(live.parsed.a, live.parsed.b, recalled);
      const now = Date.now();
      await Promise.all(
        live.dependencies.map((inbox) => {
          const owner = inbox.parsed.kind === 'inbox' ? inbox.parsed.user : '';
          const path = live.parsed;
          const peer = path.kind === 'conversation' && owner === path.a ? path.b : path.kind === 'conversation' ? path.a : '';
          return inbox.write(() => {
            for (const r of recalled) {
              const nickname = this.loaded.profiles.get(r.message.from)?.nickname ?? r.message.profile.nickname;
              const preview = r.by === r.message.from ? `${nickname} recalled a message` : 'A message was recalled';
              recallInInbox(inbox.doc, peer, r.message.id, preview, r.by, now);
            }
          });
        }),
      );
      // The author's prefs document too: a draft of the message, saved while it was typed and cleared
      // when it was sent, is still in its stored updates.
      const authors = await Promise.all([...new Set(recalled.map((r) => r.message.from))].map((user) => this.registry.acquire(prefsPath(user))));
      try {
        await this.registry.erase([live, ...live.dependencies, ...authors]);
      } finally {
        for (const prefs of authors) this.registry.release(prefs);
      }
    } finally {
      this.registry.release(live);
    }
  }

  /**
   * A recall revokes the peer's access to the recalled messages' media: each
   * hash that no other message of the conversation (any segment) still
   * references loses the conversation's reference (`media-unref`); its
   * uploader keeps access as uploader. The documents are scanned and the
   * write queued with no await between, so a message accepted afterwards
   * (which references it again) commits after the revocation, not before.
   * Costs a scan of the conversation's history, only for a recalled message
   * that carried media.
   */
  private async revokeMedia(x: string, y: string, recalled: readonly Recalled[]): Promise<void> {
    const hashes = new Set(recalled.flatMap((r) => mediaOf(r.message.body).map((ref) => ref.hash)));
    if (hashes.size === 0) return;
    const conversation = conversationId(x, y);
    await this.commit.idle();
    const docs: LiveDoc[] = [];
    try {
      for (const { segment } of await this.storage.segmentsOf(conversation)) docs.push(await this.registry.acquire(conversationPath(x, y, segment)));
      for (const live of docs) {
        for (const message of live.doc.getMap<Message>('messages').values()) for (const ref of mediaOf(message.body)) hashes.delete(ref.hash);
      }
      if (hashes.size > 0) await this.commit.write([...hashes].map((hash): Write => ({ kind: 'media-unref', hash, conversation })));
    } finally {
      for (const live of docs) this.registry.release(live);
    }
  }
}

/** Deletes a recalled message's content and its edits from a conversation document (no-op for what is gone already). */
export function eraseContent(doc: Y.Doc, id: string): void {
  const messages = doc.getMap('messages');
  if (messages.has(id)) messages.delete(id);
  const edits = doc.getMap('edits');
  for (const key of [...edits.keys()]) if (key.startsWith(`${id}|`)) edits.delete(key);
}
