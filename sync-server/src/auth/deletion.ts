/**
 * Account deletion (issue 17, docs/security.md "Deleting an account").
 *
 * The account becomes a tombstone at once (no password, "Deleted account",
 * not found by search, cannot sign in or be signed up again: conversation
 * documents are named by user ids, so a new account with the id would
 * inherit the peers' history), every session is revoked (sockets close), and
 * then the erasure runs: every message the user sent is recalled the way an
 * admin recall does it (content and edits erased from storage, a recalled
 * marker left), their media that nothing else keeps is deleted, and their
 * relations, invites, push subscriptions, queued pushes, prefs and inbox go.
 *
 * The request waits for the whole job and answers 200 when it is done. Each
 * step is idempotent and the tombstone records when the erasure finished
 * (`erased`): a crash half-way leaves a tombstone without it, and the next
 * start runs the erasure again (`resume`), which skips what is done.
 */
import { conversationId, inboxPath, prefsPath } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Media } from '../media/media.ts';
import type { PushService } from '../push/push.ts';
import { profileOf } from '../social/profiles.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { verifyPassword } from './passwords.ts';
import type { Sessions } from './sessions.ts';

/** What the caller proves: their password, or (an app-token account without one) their user id typed again. */
export interface DeletionProof {
  password?: string | undefined;
  confirm?: string | undefined;
}

export class AccountDeletion {
  /** Erasures under way, by user: a second request (or the start's resume) waits for the first. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly storage: Storage,
    private readonly hub: SyncHub,
    private readonly sessions: Sessions,
    private readonly media: Media,
    private readonly push: PushService,
    private readonly log: Log,
  ) {}

  /** Checks the proof, makes the tombstone, signs every device out, and erases; resolves once all is erased. */
  async delete(user: string, proof: DeletionProof): Promise<void> {
    const record = await this.storage.getUser(user);
    if (record === undefined || record.deleted != null) throw new Refusal('user-not-found');
    if (record.passwordHash !== null) {
      if (proof.password === undefined || !(await verifyPassword(proof.password, record.passwordHash))) throw new Refusal('bad-credentials');
    } else if (proof.confirm !== record.id) {
      throw new Refusal('confirmation-mismatch');
    }
    const tombstone = await this.storage.deleteUser(user, Date.now());
    this.hub.accountDeleted(user);
    this.log.info({ event: 'account-deleted', user }, 'account: deleted at its owner\'s request; erasing');
    await this.sessions.revoke((await this.storage.sessionsOf(user)).map((s) => s.id));
    if (tombstone !== undefined) await this.hub.inboxes.profileChanged(profileOf(tombstone));
    await this.erase(user);
  }

  /** At start: finishes the erasure of every deletion a stop or crash interrupted. */
  async resume(): Promise<void> {
    for (const user of await this.storage.deletingUsers()) {
      await this.erase(user).catch((err: unknown) => this.log.error({ err, user }, 'account: resuming an erasure failed; the next start tries again'));
    }
  }

  /** The erasure, once per user at a time. */
  erase(user: string): Promise<void> {
    let run = this.running.get(user);
    if (run === undefined) {
      run = this.eraseNow(user).finally(() => this.running.delete(user));
      this.running.set(user, run);
    }
    return run;
  }

  private async eraseNow(user: string): Promise<void> {
    // Sessions made before the tombstone on another process, or that a crash left: none may stay.
    await this.sessions.revoke((await this.storage.sessionsOf(user)).map((s) => s.id));
    let recalled = 0;
    for (const peer of await this.storage.peersOf(user)) {
      // One segment document at a time, in batches (Recalls.recallAllOf): memory stays bounded by a month of one conversation.
      for (const { segment } of await this.storage.segmentsOf(conversationId(user, peer))) recalled += await this.hub.recalls.recallAllOf(user, peer, segment, user);
    }
    const media = await this.media.forgetUploader(user);
    for (const sub of await this.storage.pushSubscriptionsOf(user)) await this.storage.deletePushSubscription(user, sub.device);
    const queued = (await this.storage.queuedPushes()).filter((p) => p.user === user).map((p) => p.id);
    if (queued.length > 0) await this.storage.dropPushes(queued);
    await this.dropRelations(user);
    const invites = await this.storage.invitesOf(user);
    if (invites.length > 0) await this.storage.deleteInvites(user, invites.map((i) => i.id));
    await this.clearOwnDocs(user);
    await this.push.idle();
    await this.storage.updateUser(user, { erased: Date.now() });
    this.log.info({ event: 'account-erased', user, recalled, media: media.length }, 'account: erasure finished');
  }

  /** Friends (both ways), blocks, and friend requests in and out. */
  private async dropRelations(user: string): Promise<void> {
    const relations = this.hub.relations;
    const mine = await relations.load(user);
    for (const other of [...mine.friends.keys()]) await relations.remove(user, other);
    for (const other of [...mine.blocked.keys()]) await relations.unblock(user, other);
    for (const from of [...mine.requestsIn.keys()]) await relations.decline(user, from);
    for (const to of [...mine.requestsOut.keys()]) await relations.decline(to, user).catch(() => undefined);
  }

  /**
   * The user's prefs (drafts, stars, read markers…) and inbox documents:
   * every root emptied, then erased from storage as a recall erases
   * (Recalls.clearDocument, on each document's leader in a cluster).
   */
  private async clearOwnDocs(user: string): Promise<void> {
    for (const path of [prefsPath(user), inboxPath(user)]) await this.hub.recalls.clearDocument(path);
  }
}
