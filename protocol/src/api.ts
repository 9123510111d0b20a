/**
 * Bodies of the friends, blocklist and admin HTTP API. The server parses
 * requests with them and generates its OpenAPI document from them.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { Element, Message, MessageId, MessageType, ProfileEntry, SystemKind, UserId } from './schemas.ts';

export const ErrorResponse = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

// ---- sessions ----------------------------------------------------------------

/** One signed-in device of the caller (GET /me/sessions). */
export const SessionInfo = z.object({
  id: z.string(),
  device: z.string(),
  /** A short name from the browser that signed in ("Firefox on Android"). */
  label: z.string(),
  /** ms since the epoch */
  created: z.number(),
  /** ms since the epoch, coarse (to the minute or so). */
  lastUsed: z.number(),
  /** The session of the request itself. */
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionList = z.object({ sessions: z.array(SessionInfo) });

/** A password change: the current password, and the new one (every other session is signed out). */
export const ChangePasswordRequest = z.object({
  current: z.string().min(1).max(LIMITS.passwordMax),
  /** The policy (length, not the user id, not a common password) answers password-too-weak. */
  password: z.string().min(1).max(LIMITS.passwordMax),
});
export const ChangePasswordResponse = z.object({ signedOut: z.number().int().nonnegative() });

/**
 * DELETE /api/v1/me: the account's password, or, for an account made by an
 * app token (it has none), `confirm`: the user id typed again.
 */
export const DeleteAccountRequest = z.object({
  password: z.string().min(1).max(LIMITS.passwordMax).optional(),
  confirm: z.string().min(1).max(200).optional(),
});
export type DeleteAccountRequest = z.infer<typeof DeleteAccountRequest>;
/** Answered once the erasure is done: the account is a tombstone, every device signed out. */
export const DeleteAccountResponse = z.object({ deleted: z.literal(true) });

export const FriendRequestBody = z.object({ to: UserId, note: z.string().max(LIMITS.requestNoteLength).optional() });
export const RelationEntry = z.object({ id: UserId, since: z.number() });
export const FriendList = z.object({ friends: z.array(RelationEntry) });
export const Blocklist = z.object({ blocked: z.array(RelationEntry) });
export const FriendRequests = z.object({
  incoming: z.array(z.object({ from: UserId, note: z.string(), ts: z.number() })),
  outgoing: z.array(z.object({ to: UserId, note: z.string(), ts: z.number() })),
});
export const Ok = z.object({ ok: z.literal(true) });

/**
 * People search (`GET /people?q=`): ids by prefix and nicknames by the start
 * of any word, among users who allow it; a user who turned discoverability
 * off is found only by their exact id. Paged by id (`cursor`: the `next` of
 * the previous page).
 */
export const PeopleQuery = z.object({
  q: z.string().trim().max(LIMITS.peopleQueryMax),
  cursor: UserId.optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.peoplePageMax).optional(),
});
export const PeopleResult = z.object({ people: z.array(ProfileEntry), next: UserId.nullable() });
/** The caller's privacy settings (`/me/privacy`): whether people may find them by id prefix and nickname. */

/** An invite link's secret: 32 base64url characters (24 random bytes); only its hash is stored. */
export const InviteToken = z.string().regex(/^[A-Za-z0-9_-]{32}$/, 'an invite token is 32 base64url characters');
/** One of the caller's live invite links (its token is shown once, when it is made). */
export const Invite = z.object({ id: z.string().min(1).max(64), created: z.number(), expires: z.number() });
export const CreatedInvite = Invite.extend({ token: InviteToken });
export const InviteList = z.object({ invites: z.array(Invite) });
/** What an invite link says before sign-in: who invited, until when. */
export const InviteInfo = z.object({ inviter: ProfileEntry, expires: z.number() });
/** An accepted invite: a chat with the inviter, or (friends-only install) a friend request to them. */
export const InviteAccepted = z.object({ inviter: ProfileEntry, outcome: z.enum(['chat', 'friend-request']) });

export const SettingsBody = z.object({
  messaging: z.enum(['open', 'friends']),
  blocklistMode: z.enum(['reject', 'silent']),
  blockKeepsFriendship: z.boolean(),
});
export const SettingsPatchBody = SettingsBody.partial();

export const ImportAccountsBody = z.object({
  accounts: z
    .array(
      z.object({
        id: UserId,
        nickname: z.string().min(1).max(LIMITS.nicknameLength).optional(),
        avatar: z.string().max(LIMITS.avatarLength).optional(),
      }),
    )
    .min(1)
    .max(LIMITS.importBatch),
});
export const ImportAccountsResult = z.object({ created: z.array(UserId), existing: z.array(UserId) });

export const ImportFriendsBody = z.object({
  user: UserId,
  friends: z.array(UserId).min(1).max(LIMITS.friendsSize),
  /** false: only `user`'s list gains them (one-way, as the hosted service's import allows). */
  bothWays: z.boolean().default(false),
});

const SendFields = {
  from: UserId,
  type: MessageType.default('text'),
  body: z.array(Element).min(1).max(16),
  /** false: the sender's inbox is not updated (the hosted service's SyncOtherMachine = 2). */
  syncToSender: z.boolean().default(true),
};
export const AdminSendBody = z.object({ ...SendFields, to: UserId, id: MessageId.optional(), ts: z.number().int().nonnegative().optional() });
export const AdminSendResult = z.object({ id: MessageId, seq: z.number() });
export const AdminBatchSendBody = z.object({ ...SendFields, to: z.array(UserId).min(1).max(LIMITS.sendBatch) });
export const BatchResult = z.object({
  results: z.array(z.object({ to: UserId, id: MessageId.optional(), seq: z.number().optional(), error: z.string().optional() })),
});
export const AdminNotifyBody = z.object({
  /** The conversation the notice appears in: between `from` and each recipient. */
  from: UserId,
  to: z.array(UserId).min(1).max(LIMITS.sendBatch),
  kind: SystemKind,
  title: z.string().max(256).optional(),
  text: z.string().min(1),
});
export const HistoryQuery = z.object({
  a: UserId,
  b: UserId,
  from: z.coerce.number().int().nonnegative().default(0),
  to: z.coerce.number().int().nonnegative().default(Number.MAX_SAFE_INTEGER),
  cursor: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
/** A member's own history pages: the admin export, scoped to the caller's conversation with `:peer`. */
export const MemberHistoryQuery = HistoryQuery.omit({ a: true, b: true });
export const HistoryPage = z.object({
  messages: z.array(
    z.object({
      seq: z.number(),
      id: MessageId,
      from: UserId,
      ts: z.number(),
      segment: z.string(),
      recalled: z.object({ by: z.string(), ts: z.number() }).nullable(),
      message: Message.nullable(),
    }),
  ),
  /** The cursor of the next page; null when this page is the last (`complete`). */
  next: z.number().nullable(),
  complete: z.boolean(),
});
/** One month segment of a conversation that holds messages (from the server's index, no document loaded). */
export const SegmentInfo = z.object({
  segment: z.string(),
  count: z.number().int().nonnegative(),
  firstSeq: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
});
export type SegmentInfo = z.infer<typeof SegmentInfo>;
/** `GET /api/v1/conversations/:peer/segments`: the segments holding messages, oldest first. */
export const SegmentList = z.object({ segments: z.array(SegmentInfo) });
export type SegmentList = z.infer<typeof SegmentList>;

/**
 * `POST /api/v1/admin/messages/import`: history from another system. Each
 * message keeps its id and timestamp (it lands in its month's segment) and is
 * sequenced in timestamp order; an id already present is skipped, so a
 * repeated import is harmless. `live: false` (the default) is history: no
 * unread count and no push.
 */
export const ImportMessagesBody = z.object({
  messages: z
    .array(
      z.object({
        id: MessageId,
        from: UserId,
        to: UserId,
        type: MessageType.default('text'),
        body: z.array(Element).min(1).max(16),
        ts: z.number().int().nonnegative(),
      }),
    )
    .min(1)
    .max(LIMITS.messageImportBatch),
  live: z.boolean().default(false),
});
export const ImportMessagesResult = z.object({ imported: z.number().int(), duplicates: z.number().int() });

export const RecallBody = z.object({ a: UserId, b: UserId, id: MessageId });
export const OnlineResult = z.object({ user: UserId, online: z.boolean(), devices: z.array(z.string()) });
export const ProfileResult = ProfileEntry;

/**
 * GET /api/v1/ready: 200 `{ready: true, reasons: []}` while the server takes
 * writes; 503 `{ready: false, reasons}` while it refuses them, one reason per
 * cause: a commit failed (`storage-full`, `storage-unavailable`, `since` the
 * first failure, until a probe commits), or free disk space is below the
 * reserve (`storage-full`, new messages and uploads refused), or the process
 * was asked to stop (`draining`, from the signal until it exits: a proxy's
 * health check sees it and sends new requests and sockets elsewhere).
 */
export const ReadyReason = z.object({
  code: z.enum(['storage-full', 'storage-unavailable', 'draining']),
  /** ms since the epoch */
  since: z.number().int(),
  message: z.string(),
});
export const ReadyResult = z.object({ ready: z.boolean(), reasons: z.array(ReadyReason) });
export type ReadyResult = z.infer<typeof ReadyResult>;
