/**
 * The JSON values stored in Parley's documents, and the bodies of its HTTP
 * API. Both sides import these: the client to fail fast offline, the server as
 * the authority.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { USER_ID_PATTERN } from './paths.ts';

export const UserId = z.string().regex(USER_ID_PATTERN, 'a user id is 1-64 of A-Z a-z 0-9 _ . @ -');
export const MessageId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** The sender's profile as it was when the message was sent. */
export const Profile = z.object({
  nickname: z.string().max(LIMITS.nicknameLength),
  avatar: z.string().max(LIMITS.avatarLength).optional(),
});
export type Profile = z.infer<typeof Profile>;

export {
  Element,
  ELEMENT_TYPES,
  MessageType,
  SystemElement,
  SystemKind,
  TextElement,
} from './elements.ts';
import { Element, MessageType, previewOfBody } from './elements.ts';

/**
 * A reply's reference to the message it quotes. It carries no text, so a
 * recall of the quoted message leaves nothing of it behind: devices show the
 * quote from their own copy of the original (and jump to it by id).
 */
export const ReplyRef = z.object({ id: MessageId, from: UserId });
export type ReplyRef = z.infer<typeof ReplyRef>;

/** `messages[<id>]` in a conversation document. */
/**
 * How a message is announced to its recipient's offline devices, set by the
 * server only (the admin API, `/v4/`'s OfflinePushInfo and MsgLifeTime): the
 * notification's title and text instead of the sender's name and the preview,
 * no push at all, or a push that is not worth showing after `ttl` seconds.
 */
export const PushOptions = z.object({
  title: z.string().min(1).max(100).optional(),
  text: z.string().min(1).max(500).optional(),
  off: z.literal(true).optional(),
  ttl: z.number().int().nonnegative().max(30 * 24 * 3600).optional(),
});
export type PushOptions = z.infer<typeof PushOptions>;

export const Message = z.object({
  id: MessageId,
  from: UserId,
  to: UserId,
  type: MessageType,
  body: z.array(Element).min(1).max(16),
  /** The sender's clock, in ms; the display order is the server's sequence. */
  ts: z.number().int().nonnegative(),
  profile: Profile,
  /** The message this one replies to. */
  reply: ReplyRef.optional(),
  /**
   * The body was forwarded from another message (shown "Forwarded"). Its media
   * references are the original's: the server lets the new peer read them
   * only if the forwarder may (media_refs), so no bytes are sent again.
   */
  forwarded: z.literal(true).optional(),
  push: PushOptions.optional(),
}).refine((m) => m.body.some((e) => e.type === m.type), {
  error: 'a message\'s type is the type of one of its elements',
  path: ['type'],
});
export type Message = z.infer<typeof Message>;

/** `receipts["<user>|delivered"]` and `receipts["<user>|read"]`: the highest sequence reached. */
export const Receipt = z.object({
  user: UserId,
  seq: z.number().int().nonnegative(),
  /**
   * When the writer's device raised it (ms). Optional (older writers leave it
   * out): message info shows, per message, the time of the first receipt a
   * device saw cover it, and this makes that the peer's time, not the moment
   * the sender's device came online.
   */
  ts: z.number().int().nonnegative().optional(),
});
export type Receipt = z.infer<typeof Receipt>;
export type ReceiptKind = 'delivered' | 'read';
export const receiptKey = (user: string, kind: ReceiptKind): string => `${user}|${kind}`;

/**
 * `actions["<msgId>|<user>|<name>"]` in a conversation document: a member's
 * move on an interactive custom message (open a red packet, play a round).
 * Written once ever, by the user it names, about a message in the same
 * document; the custom-message registry on the client gives `data` meaning.
 */
export const MessageAction = z.object({
  msg: MessageId,
  from: UserId,
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  data: z.unknown(),
  ts: z.number().int().nonnegative(),
});
export type MessageAction = z.infer<typeof MessageAction>;
export const actionKey = (msgId: string, user: string, name: string): string => `${msgId}|${user}|${name}`;
/** The most an action's `data` may hold, as UTF-8 JSON (what `actionDataBytes` counts). */
export const ACTION_MAX_BYTES = 1024;
/** The UTF-8 size of an action's `data` as JSON, as ACTION_MAX_BYTES counts it (0 when absent). */
export function actionDataBytes(data: unknown): number {
  const json = JSON.stringify(data) as string | undefined;
  return json === undefined ? 0 : new TextEncoder().encode(json).length;
}

/**
 * `recalls[<msgId>]`: the message was recalled at `ts` by `by` (its sender
 * within the recall window, or `@admin` at any time). The same update deletes
 * `messages[<msgId>]` and the message's edits, so its content is erased.
 */
export const Recall = z.object({ by: z.string().min(1).max(LIMITS.userIdLength + 1), ts: z.number().int().nonnegative() });
export type Recall = z.infer<typeof Recall>;

/**
 * `edits["<msgId>|<n>"]`: the sender's n-th edit (n = 1, 2, …) of their own
 * text message; the highest n is the text shown, marked edited.
 */
export const MessageEdit = z.object({
  msg: MessageId,
  from: UserId,
  n: z.number().int().positive(),
  text: z.string().min(1),
  ts: z.number().int().nonnegative(),
});
export type MessageEdit = z.infer<typeof MessageEdit>;
export const editKey = (msgId: string, n: number): string => `${msgId}|${n}`;

/**
 * `reactions["<msgId>|<user>|<emoji>"]`: a member reacted with an emoji. One
 * set per user per message; toggling off deletes the key, toggling on again
 * writes it again (an overwrite of the user's own item).
 */
export const Reaction = z.object({
  msg: MessageId,
  from: UserId,
  emoji: z.string().min(1).max(LIMITS.reactionLength).regex(/^[^|]+$/),
  ts: z.number().int().nonnegative(),
});
export type Reaction = z.infer<typeof Reaction>;
export const reactionKey = (msgId: string, user: string, emoji: string): string => `${msgId}|${user}|${emoji}`;

/**
 * `pins["<msgId>|<user>"]`: a member pinned a message at the top of the
 * conversation, for both members. Each member's pin is their own item
 * (unpin deletes it, pin again overwrites it); the bar shows the latest.
 */
export const MessagePin = z.object({
  msg: MessageId,
  from: UserId,
  ts: z.number().int().nonnegative(),
});
export type MessagePin = z.infer<typeof MessagePin>;
export const pinKey = (msgId: string, user: string): string => `${msgId}|${user}`;

/** `seq[<msgId>]`, written by the server only: the acceptance order in the conversation. */
export const SeqStamp = z.number().int().positive();

/** `clients[<clientId>]`, written by the server only: who claimed a Yjs client id. */
export const ClientClaim = z.object({ user: z.string() });

/** `prefs/<user>`: `read[<peer>]`, the highest sequence the user has read in that conversation. */
export const ReadMarker = z.object({ seq: z.number().int().nonnegative() });

/**
 * `prefs/<user>`: `muted[<peer>]`, whether the conversation with that peer is
 * muted (no push to any of the user's devices). Unmute by writing
 * `{muted: false}` or by deleting the key.
 */
export const MuteSetting = z.object({ muted: z.boolean() });
export type MuteSetting = z.infer<typeof MuteSetting>;

/** `prefs/<user>`: `pinned[<peer>]`, the conversation sits at the top of the list. */
export const PinSetting = z.object({ pinned: z.boolean(), ts: z.number().int().nonnegative() });
export type PinSetting = z.infer<typeof PinSetting>;

/** `prefs/<user>`: `archived[<peer>]`, the conversation is out of the main list until a new message arrives after `ts`. */
export const ArchiveSetting = z.object({ archived: z.boolean(), ts: z.number().int().nonnegative() });
export type ArchiveSetting = z.infer<typeof ArchiveSetting>;

/**
 * `prefs/<user>`: `drafts[<peer>]`, the unsent text of a conversation, so it
 * follows the user to their other devices. An empty text is no draft.
 */
export const Draft = z.object({
  text: z.string().max(LIMITS.draftLength),
  reply: ReplyRef.optional(),
  ts: z.number().int().nonnegative(),
});
export type Draft = z.infer<typeof Draft>;

/**
 * `prefs/<user>`: `hidden[<msgId>]`, "delete for me": the message is hidden on
 * every device of the user, and stays for the peer. `peer` names the
 * conversation. Unhiding deletes the key. At most LIMITS.hiddenMessages.
 */
export const HiddenMessage = z.object({ peer: UserId, ts: z.number().int().nonnegative() });
export type HiddenMessage = z.infer<typeof HiddenMessage>;

/**
 * `prefs/<user>`: `starred[<msgId>]`, the message is in the user's "Starred"
 * view; `peer` names its conversation. Unstarring deletes the key. At most
 * LIMITS.starredMessages.
 */
export const StarredMessage = z.object({ peer: UserId, ts: z.number().int().nonnegative() });
export type StarredMessage = z.infer<typeof StarredMessage>;

/** `inbox/<user>`: `conversations[<peer>]`, written by the server. */
export const InboxEntry = z.object({
  peer: UserId,
  /** The newest segment holding messages. */
  segment: z.string(),
  lastSeq: z.number().int().nonnegative(),
  last: z
    .object({
      id: MessageId,
      from: UserId,
      preview: z.string(),
      ts: z.number(),
      seq: z.number(),
      /** The message was recalled, by this user (its sender) or `@admin`: clients word it for their user ("You recalled a message"). */
      recalledBy: z.string().optional(),
    })
    .optional(),
  unread: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export type InboxEntry = z.infer<typeof InboxEntry>;

/**
 * `inbox/<user>`: `profiles[<user>]`, a cache of the profiles of the user's
 * peers. `about` (a line about themselves, cleaned like nicknames) is in the
 * profile people look at, not in each message's `profile`: absent when empty.
 */
export const ProfileEntry = Profile.extend({ id: UserId, about: z.string().max(LIMITS.aboutLength).optional() });
export type ProfileEntry = z.infer<typeof ProfileEntry>;

/** The UTF-8 size of a message body, as the 12 KB limit counts it. */
export function bodyBytes(body: readonly Element[]): number {
  return new TextEncoder().encode(JSON.stringify(body)).length;
}

/** A one-line preview for the conversation list and notifications. */
export function previewOf(message: Pick<Message, 'body'>): string {
  return previewOfBody(message.body);
}

// ---- HTTP bodies -------------------------------------------------------------

export const SignUpRequest = z.object({
  user: UserId,
  /** The server's password policy (at least LIMITS.passwordMin characters, not the id, not a common one) refuses with `password-too-weak`. */
  password: z.string().min(1).max(LIMITS.passwordMax),
  nickname: z.string().min(1).max(LIMITS.nicknameLength).optional(),
  device: z.string().min(1).max(64),
});
export const SignInRequest = z.object({
  user: UserId,
  password: z.string().min(1).max(LIMITS.passwordMax),
  device: z.string().min(1).max(64),
});
/** Sign-in with a token minted by the app's own backend (see `npm run token`). */
export const AppTokenRequest = z.object({ appToken: z.string().min(1), device: z.string().min(1).max(64) });
/**
 * Sign-in with the hosted chat service's UserSig, signed by the app's backend
 * with the key it shares with this server (`npm run usersig`); `user` must be
 * the identifier it was signed for.
 */
export const UserSigRequest = z.object({ user: UserId, usersig: z.string().min(1).max(8192), device: z.string().min(1).max(64) });
/**
 * A refresh needs no access token (it works after the access token expired):
 * the refresh token of the session, and the device it was issued to.
 */
export const RefreshRequest = z.object({ refreshToken: z.string().min(1).max(256), device: z.string().min(1).max(64) });

export const Session = z.object({
  user: UserId,
  device: z.string(),
  accessToken: z.string(),
  /** Seconds since the epoch. */
  expiresAt: z.number(),
  /**
   * Opaque; exchanged at /auth/refresh for a new session answer and dead
   * from then on (each answer carries the next one). Bound to `device`.
   */
  refreshToken: z.string(),
  profile: ProfileEntry,
});
export type Session = z.infer<typeof Session>;

/**
 * `PATCH /me`: any of the fields. `avatar: null` removes the avatar; `about`
 * is cleaned by the server (`''`, or nothing visible, removes it).
 */
export const UpdateProfileRequest = z.object({
  nickname: Profile.shape.nickname.optional(),
  avatar: Profile.shape.avatar.unwrap().nullable().optional(),
  about: z.string().max(LIMITS.aboutLength).optional(),
});
export type UpdateProfileRequest = z.infer<typeof UpdateProfileRequest>;
