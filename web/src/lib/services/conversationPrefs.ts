/**
 * Pinning and archiving a conversation: prefs writes, so they follow the user
 * to every device (offline too: the prefs document syncs when it can). Muting
 * is services/mute.ts.
 */
import { setArchived as writeArchived, setPinned as writePinned } from '../sync/prefs.ts';
import { currentHub } from './session.ts';

export async function setPinned(peer: string, pinned: boolean): Promise<void> {
  const doc = await currentHub().prefsDoc();
  if (doc !== null) writePinned(doc, peer, pinned);
}

/** Archived: out of the main list until a message newer than now arrives. */
export async function setArchived(peer: string, archived: boolean): Promise<void> {
  const doc = await currentHub().prefsDoc();
  if (doc !== null) writeArchived(doc, peer, archived);
}
