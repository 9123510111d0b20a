/**
 * What this device holds that the server does not have yet: messages not
 * acknowledged (media ones with their bytes possibly still uploading), and
 * recalls, edits, reactions and game moves. Sign-out asks before it deletes
 * them (components/SignOutDialog.svelte).
 *
 * Read from the one kind-tagged outbox (lib/sync/outbox.ts).
 */
import { liveQuery } from 'dexie';
import { db } from '../db.ts';

export interface Unsent {
  /** Messages without bytes to upload, waiting or refused. */
  messages: number;
  /** Media messages whose bytes are not all uploaded yet. */
  uploads: number;
  /** Recalls, edits, reactions and moves on custom messages. */
  changes: number;
  /** Of all of them, those the server refused (`failed`): they do not go by themselves. */
  failed: number;
}

export const NOTHING_UNSENT: Unsent = { messages: 0, uploads: 0, changes: 0, failed: 0 };

export function totalUnsent(u: Unsent): number {
  return u.messages + u.uploads + u.changes;
}

export async function countUnsent(): Promise<Unsent> {
  const entries = await db.outbox.toArray();
  const messages = entries.filter((e) => e.kind === 'message');
  const uploads = messages.filter((m) => m.uploads === 'pending').length;
  const failed = entries.filter((e) => e.state === 'failed').length;
  return { messages: messages.length - uploads, uploads, changes: entries.length - messages.length, failed };
}

/** Calls `next` with the counts now and after each change; returns the function that stops watching. */
export function watchUnsent(next: (unsent: Unsent) => void, error: (e: unknown) => void): () => void {
  const subscription = liveQuery(countUnsent).subscribe({ next, error });
  return () => subscription.unsubscribe();
}

/** "2 messages and 1 upload": what is unsent, in words (empty when nothing is). */
export function unsentWords(u: Unsent): string {
  const count = (n: number, one: string, many: string): string[] => (n === 0 ? [] : [`${n} ${n === 1 ? one : many}`]);
  const parts = [...count(u.messages, 'message', 'messages'), ...count(u.uploads, 'upload', 'uploads'), ...count(u.changes, 'change (a reaction, edit or recall)', 'changes (reactions, edits or recalls)')];
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`;
}
