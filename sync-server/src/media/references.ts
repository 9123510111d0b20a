/**
 * The accept path's media hook (SyncHub.alsoWrite): an accepted message's
 * media references join its own transaction, so the conversation's members
 * may read the media exactly when the message is durable. The cost is the
 * message's own references, never the conversation's history.
 */
import { mediaOf } from '@parley/protocol';
import type { Write } from '../storage/storage.ts';
import type { MessageWrites } from '../sync/events.ts';

export const mediaReferences: MessageWrites = ({ message, conversation }) => {
  const hashes = new Set(mediaOf(message.body).map((ref) => ref.hash));
  return [...hashes].map((hash): Write => ({ kind: 'media-ref', hash, conversation, from: message.from }));
};
