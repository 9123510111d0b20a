/** Muting a conversation: a prefs write (synced to the user's other devices; the server sends no push for it). */
import { currentHub } from './session.ts';

export async function setMuted(peer: string, muted: boolean): Promise<void> {
  await currentHub().setMuted(peer, muted);
}
