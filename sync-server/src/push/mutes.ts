/**
 * Which conversations each user muted, mirrored from `muted[<peer>]` in their
 * prefs document: read from the document once per user (the first time a push
 * to them is decided), then kept current from every accepted prefs write, so
 * deciding a push never loads a document. Every prefs write passes through the
 * hub, so the mirror cannot drift from the document.
 */
import type * as Y from 'yjs';
import { prefsPath, type MuteSetting } from '@parley/protocol';
import type { DocRegistry } from '../sync/registry.ts';

/** The peers muted in a prefs document; a deleted key or `{muted: false}` is not muted. */
function mutedIn(prefs: Y.Doc): Set<string> {
  const muted = new Set<string>();
  for (const [peer, setting] of prefs.getMap<MuteSetting>('muted')) if (setting.muted) muted.add(peer);
  return muted;
}

export class MuteMirror {
  private readonly muted = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<Set<string>>>();

  constructor(private readonly registry: DocRegistry) {}

  async isMuted(user: string, peer: string): Promise<boolean> {
    return (this.muted.get(user) ?? (await this.load(user))).has(peer);
  }

  /** After an accepted write to `user`'s prefs document (`prefs` is the server's copy, already changed). */
  changed(user: string, prefs: Y.Doc): void {
    // A user not mirrored yet is read from the document when first needed.
    if (this.muted.has(user)) this.muted.set(user, mutedIn(prefs));
  }

  private load(user: string): Promise<Set<string>> {
    let loading = this.loading.get(user);
    if (loading === undefined) {
      loading = (async () => {
        const live = await this.registry.acquire(prefsPath(user));
        try {
          // Read and kept in the same turn: any later write reaches `changed`.
          const muted = mutedIn(live.doc);
          this.muted.set(user, muted);
          return muted;
        } finally {
          this.registry.release(live);
        }
      })().finally(() => this.loading.delete(user));
      this.loading.set(user, loading);
    }
    return loading;
  }
}
