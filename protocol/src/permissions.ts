/**
 * Who may message whom: validator step 4 (docs/architecture.md). The one
 * decision; the server supplies the facts from its relations cache. The
 * outcome table in docs/permissions.md is rendered from `PERMISSION_CELLS`
 * (a test checks the file matches), and the server's permission-matrix test
 * drives real clients through the same cells.
 */
import type { ErrorCode } from './codes.ts';

/** `open`: strangers may message (default); `friends`: only friends. */
export type MessagingMode = 'open' | 'friends';
/** `silent` (default): acked as sent, never stored or delivered; `reject`: a blocked sender is told (`blocked`). */
export type BlocklistMode = 'reject' | 'silent';

export interface Settings {
  messaging: MessagingMode;
  blocklistMode: BlocklistMode;
  /** false (default): blocking someone removes the friendship both ways. */
  blockKeepsFriendship: boolean;
}

/** Blocking is silent by default, as in the hosted service and the apps people know: the blocked sender is never told. */
export const DEFAULT_SETTINGS: Settings = { messaging: 'open', blocklistMode: 'silent', blockKeepsFriendship: false };

export type PermissionCode = Extract<ErrorCode, 'blocked' | 'not-friends' | 'not-in-recipient-friends' | 'not-in-sender-friends'>;
export type Decision = 'ok' | 'silent-drop' | PermissionCode;

export interface PermissionFacts {
  messaging: MessagingMode;
  blocklistMode: BlocklistMode;
  /** The sender's friend list holds the recipient. */
  senderHasRecipient: boolean;
  /** The recipient's friend list holds the sender. */
  recipientHasSender: boolean;
  /** The sender is on the recipient's blocklist. */
  blocked: boolean;
  /** An admin sending as the user: no friend or blocklist check (as the hosted service). */
  asAdmin: boolean;
}

export function decide(f: PermissionFacts): Decision {
  if (f.asAdmin) return 'ok';
  // The blocklist first: a blocked sender learns nothing about friendship.
  if (f.blocked) return f.blocklistMode === 'silent' ? 'silent-drop' : 'blocked';
  if (f.messaging === 'open') return 'ok';
  if (!f.senderHasRecipient && !f.recipientHasSender) return 'not-friends';
  if (!f.recipientHasSender) return 'not-in-recipient-friends';
  if (!f.senderHasRecipient) return 'not-in-sender-friends';
  return 'ok';
}

export type Friendship = 'both' | 'sender-to-recipient' | 'recipient-to-sender' | 'none';
export const FRIENDSHIPS: readonly Friendship[] = ['both', 'sender-to-recipient', 'recipient-to-sender', 'none'];
const FRIENDSHIP_TEXT: Record<Friendship, string> = {
  both: 'friends both ways',
  'sender-to-recipient': "recipient in sender's list only",
  'recipient-to-sender': "sender in recipient's list only",
  none: 'none',
};

export interface PermissionCell {
  messaging: MessagingMode;
  friendship: Friendship;
  blocked: boolean;
  actor: 'user' | 'admin';
  outcome: Decision;
}

/** Every cell of {open, friends} × friendship × {blocked, not} × {user, admin}, in reject mode. */
export const PERMISSION_CELLS: readonly PermissionCell[] = (['open', 'friends'] as const).flatMap((messaging) =>
  FRIENDSHIPS.flatMap((friendship) =>
    [false, true].flatMap((blocked) =>
      (['user', 'admin'] as const).map((actor) => ({
        messaging,
        friendship,
        blocked,
        actor,
        outcome: decide({
          messaging,
          blocklistMode: 'reject',
          senderHasRecipient: friendship === 'both' || friendship === 'sender-to-recipient',
          recipientHasSender: friendship === 'both' || friendship === 'recipient-to-sender',
          blocked,
          asAdmin: actor === 'admin',
        }),
      })),
    ),
  ),
);

/** docs/permissions.md, rendered from PERMISSION_CELLS. */
export function permissionsMarkdown(): string {
  const rows = PERMISSION_CELLS.map(
    (c) => `| ${c.messaging} | ${FRIENDSHIP_TEXT[c.friendship]} | ${c.blocked ? 'blocked' : 'not blocked'} | ${c.actor === 'admin' ? 'admin as user' : 'user'} | \`${c.outcome}\` |`,
  );
  return [
    '# Who may message whom',
    '',
    '<!-- Generated from PERMISSION_CELLS in protocol/src/permissions.ts; protocol/src/permissions.test.ts checks it. -->',
    '',
    'The server decides in the accept path (validator step 4) with `decide()` from',
    '`@parley/protocol`. Settings (admin API, `PUT /api/v1/admin/settings`):',
    '',
    '- `messaging`: `open` (default; strangers may message) or `friends` (only friends).',
    '- `blocklistMode`: `silent` (default, as in the hosted service) or `reject`. Silent: the',
    '  server acks the update as if it were sent and never applies, stores or delivers it',
    '  (the message stays on the sending device as sent, with no delivered tick, and becomes',
    "  the preview in the sender's own inbox only); a friend request to the user who blocked",
    '  the sender is answered as sent and goes nowhere. Reject: the sender gets the `blocked`',
    '  code. The table below is in reject mode; in silent mode every `blocked` is `silent-drop`.',
    '- `blockKeepsFriendship`: `false` (default; blocking removes the friendship both ways).',
    '',
    "Friendship may be one-way in data: a request + accept adds both ways; the admin",
    'import may add one way. The blocklist is checked first; an admin sending as a',
    'user bypasses both checks.',
    '',
    '| messaging | friendship | blocklist (sender on recipient\'s) | sent by | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
