/**
 * The storage of the sync server: eight small stores, by concern, each with
 * its own contract suite (contract/) that every backend passes. SQLite is the
 * default backend (sqlite.ts: its stores in sqlite/, writes in a worker
 * thread); memory is its twin for unit tests (memory.ts, memory/);
 * PostgreSQL (postgres.ts, postgres/) serves several processes at once.
 *
 * Callers hold one `Storage`, the composition of the stores: one generic
 * composer (`ComposedStorage`) forwards each method, by the list in
 * `STORE_METHODS`, to the store that owns it, so a backend writes each method
 * once, in its store's class.
 */
import type { CallbackStore } from './stores/callbacks.ts';
import type { DocStore } from './stores/docs.ts';
import type { MediaStore } from './stores/media.ts';
import type { MessageIndex } from './stores/messages.ts';
import type { PushStore } from './stores/push.ts';
import type { SessionStore, UserStore } from './stores/accounts.ts';
import type { SocialStore } from './stores/social.ts';

export type { DocLeader, DocSnapshot, DocStore, StoredDoc, StoredUpdate, Write } from './stores/docs.ts';
export { FencedError } from './stores/docs.ts';
export type { IndexedMessage, MessageIndex, SegmentRow } from './stores/messages.ts';
export { membersOf } from './stores/messages.ts';
export type { SessionRecord, SessionStore, UserPatch, UserRecord, UserStore } from './stores/accounts.ts';
export { DELETED_NICKNAME } from './stores/accounts.ts';
export type { InviteRow, RelationChange, RelationKind, RelationRow, SocialStore } from './stores/social.ts';
export type { PushStore, PushSubscriptionRecord, QueuedPush } from './stores/push.ts';
export type { MediaRecord, MediaStore, UploadRecord } from './stores/media.ts';
export type { CallbackStore, QueuedCallback } from './stores/callbacks.ts';

/** One backend's stores, by name. */
export interface StoreSet {
  docs: DocStore;
  messages: MessageIndex;
  users: UserStore;
  sessions: SessionStore;
  social: SocialStore;
  push: PushStore;
  media: MediaStore;
  callbacks: CallbackStore;
}

export type StoreName = keyof StoreSet;

/** Every store's methods in one interface. */
export type StoreMethods = DocStore & MessageIndex & UserStore & SessionStore & SocialStore & PushStore & MediaStore & CallbackStore;

export interface Storage extends StoreMethods {
  close(): Promise<void>;
  /**
   * Settles, now, the requests that have finished elsewhere (a backend whose
   * work runs on another thread), instead of on a later turn of the event
   * loop; optional, and cheap enough to call for every write.
   */
  poll?(): void;
}

/**
 * The methods of each store, by store: what the composer forwards and what a
 * backend's generic call paths (the SQLite worker's) read. Checked below to
 * name every method of every store, and no method twice across stores.
 */
export const STORE_METHODS = {
  docs: ['loadDoc', 'commit', 'probe', 'compact', 'erase', 'logLength', 'lead', 'leaderOf'],
  messages: ['lastSeq', 'countMessagesAfter', 'peersOf', 'segmentsOf', 'messagesOf'],
  users: ['createUser', 'getUser', 'findUser', 'updateUser', 'isAvatar', 'searchUsers', 'deleteUser', 'deletingUsers'],
  sessions: ['sessions', 'sessionsOf', 'getSession', 'putSession', 'rotateSession', 'touchSession', 'deleteSessions'],
  social: ['relationsOf', 'changeRelations', 'settings', 'putSetting', 'putInvite', 'inviteByHash', 'invitesOf', 'deleteInvites'],
  push: ['putPushSubscription', 'deletePushSubscription', 'pushSubscriptionsOf', 'enqueuePushes', 'queuedPushes', 'claimPushes', 'renewPushClaims', 'releasePushClaims', 'retryPush', 'dropPushes'],
  media: ['putUpload', 'getUpload', 'uploads', 'uploadsOf', 'setUploadReceived', 'deleteUpload', 'addMedia', 'getMedia', 'mayReadMedia', 'hasUploaded', 'uploadedBytes', 'mediaOnlyOf', 'forgetUploader'],
  callbacks: ['queuedCallbacks', 'nextCallbackDue', 'claimCallbacks', 'retryCallback', 'dropCallbacksOf', 'dropCallbacks', 'releaseCallbackClaims'],
} as const satisfies { [S in StoreName]: readonly (keyof StoreSet[S])[] };

type Listed<S extends StoreName> = (typeof STORE_METHODS)[S][number];
/** The methods of the stores no list names, and those two lists name. */
type Misnamed = { [S in StoreName]: Exclude<keyof StoreSet[S], Listed<S>> | (Listed<S> & { [T in Exclude<StoreName, S>]: Listed<T> }[Exclude<StoreName, S>]) }[StoreName];
// A method left out would be missing from every composed storage; one listed twice would go to one store only.
const _everyMethodOnce: [Misnamed] extends [never] ? true : Misnamed = true;

/** The store that owns each method. */
export const STORE_OF: ReadonlyMap<string, StoreName> = new Map(
  Object.entries(STORE_METHODS).flatMap(([store, methods]) => methods.map((m): [string, StoreName] => [m, store as StoreName])),
);

type AnyMethod = (...args: unknown[]) => unknown;

class Composed {
  constructor(protected readonly stores: StoreSet) {}
}
for (const [method, store] of STORE_OF) {
  Object.defineProperty(Composed.prototype, method, {
    value: function (this: Composed, ...args: unknown[]): unknown {
      const target = this.stores[store] as unknown as Record<string, AnyMethod>;
      return target[method]?.call(target, ...args);
    },
    writable: true,
    configurable: true,
  });
}

/**
 * The composer: a class whose instances forward every store method to the
 * store in `stores` that owns it. A backend extends it with `close` (and
 * `poll`); a subclass may still override a method (tests hold commits back
 * that way).
 */
export const ComposedStorage = Composed as unknown as abstract new (stores: StoreSet) => StoreMethods;
