/**
 * The caps on what one user holds open (PARLEY_MAX_SOCKETS_PER_USER,
 * PARLEY_MAX_DOCS_PER_USER). A slot is taken before the document loads, so
 * that many sockets opened at once cannot all slip past them.
 */
import type { ErrorCode } from '@parley/protocol';

/** What one user holds open: connections, and connections per document. */
interface Held {
  sockets: number;
  docs: Map<string, number>;
}

export class UserCaps {
  /** Per user, their connections (opening or open): the caps on sockets and documents count these. */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly maxSocketsPerUser: number,
    private readonly maxDocsPerUser: number,
  ) {}

  /** Takes a slot for `user`'s connection to `path`, or says which cap refuses it. */
  take(user: string, path: string): ErrorCode | null {
    const held = this.held.get(user) ?? { sockets: 0, docs: new Map<string, number>() };
    if (held.sockets >= this.maxSocketsPerUser) return 'too-many-sockets';
    if (!held.docs.has(path) && held.docs.size >= this.maxDocsPerUser) return 'too-many-docs';
    held.sockets++;
    held.docs.set(path, (held.docs.get(path) ?? 0) + 1);
    this.held.set(user, held);
    return null;
  }

  /** Frees the slot `take` gave. */
  letGo(user: string, path: string): void {
    const held = this.held.get(user);
    if (held === undefined) return;
    held.sockets--;
    const n = (held.docs.get(path) ?? 0) - 1;
    if (n > 0) held.docs.set(path, n);
    else held.docs.delete(path);
    if (held.sockets <= 0) this.held.delete(user);
  }

  /** What `user` holds open now: sockets, and distinct documents (the caps count these). */
  heldBy(user: string): { sockets: number; docs: number } {
    const held = this.held.get(user);
    return { sockets: held?.sockets ?? 0, docs: held?.docs.size ?? 0 };
  }
}
