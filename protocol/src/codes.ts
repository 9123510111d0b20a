/**
 * Every refusal Parley can give, on the sync wire (`reject` frames) and over
 * HTTP (`{error: {code, message}}`). The codes are stable: clients switch on
 * them, support reads them; the messages are for people and may be reworded.
 */
export const ERROR_MESSAGES = {
  // Authentication and access (HTTP 401/403, or a `refused` control frame).
  'token-missing': 'Sign in first: this request carried no access token.',
  'token-expired': 'Your session has expired. Sign in again.',
  'token-invalid': 'This access token is not valid. Sign in again.',
  'bad-credentials': 'That user id and password do not match.',
  'user-exists': 'That user id is taken. Choose another.',
  'account-deleted': 'That user id belonged to an account that was deleted. It cannot be used again: choose another.',
  'confirmation-mismatch': 'To delete the account, type your user id exactly as it is.',
  'not-member': 'You are not a member of this conversation.',
  'not-owner-doc': 'Only the owner may open this document.',
  'session-revoked': 'This device was signed out. Sign in again.',
  'refresh-invalid': 'This sign-in is no longer valid on this device. Sign in again.',
  'user-id-reserved': 'That user id is reserved. Choose one that does not start with "@" and is not "." or "..".',
  'nickname-invalid': 'A nickname needs at least one visible character.',
  'password-too-weak': 'Choose a password of at least 8 characters that is not your user id and not a commonly used password.',
  'rate-limited': 'Too many attempts. Wait a little and try again (the Retry-After header says how long).',
  'too-many-sockets': 'Too many connections are open for this account. Close some tabs or devices and try again.',
  'too-many-docs': 'Too many conversations are open at once for this account. Close some and try again.',
  'socket-too-slow': 'This connection fell too far behind in reading what the server sent, so the server closed it. The app reconnects and catches up by itself.',

  // Update validation (a `reject` frame; nothing of the update is applied).
  'client-id-taken': 'This device used a sync id that belongs to someone else; it will pick a new one.',
  'reset-required': 'This device is out of step with the server; it will sync again.',
  'read-only': 'Only the server writes this document.',
  'unknown-root': 'This document has no such section.',
  'nested-type': 'Nested shared types are not allowed.',
  'schema-invalid': 'The message is malformed.',
  'not-author': 'A message must name its sender as its author.',
  'not-owner': 'You can only change or delete what you wrote.',
  'duplicate-id': 'A message with this id already exists.',
  'wrong-conversation': 'This message does not belong in this conversation.',
  'body-too-long': 'The message is longer than 12 KB. Shorten it or send it as a file.',
  'system-reserved': 'Only the server writes system messages; send another message type.',
  'duplicate-action': 'You have already done this on that message; it can be done once.',
  'action-too-long': 'This action carries more than 1 KB of data. Send less.',
  'recall-window-passed': 'A message can be recalled only soon after it was sent (2 minutes unless this server sets another window); this one is older.',
  'message-recalled': 'That message was recalled: it can no longer be edited or reacted to.',
  'not-editable': 'Only text messages you sent can be edited.',
  'draft-too-long': 'A draft may hold up to 4,000 characters.',
  'prefs-full': 'You have hidden or starred as many messages as this server keeps (5,000 unless it sets another number). Unstar some, or unhide them, first.',
  'update-too-large': 'This write holds more data or items than one write may. Send less at once.',
  'slow-down': 'You are sending messages too fast. They will go out in a moment.',
  'ts-out-of-range': "This message's time is too far from the server's clock. Check the device's date and time.",

  // Permission (validator step 4): who may message whom.
  blocked: 'The recipient has blocked you, so this message was not delivered.',
  'not-friends': 'This server only delivers messages between friends. Send a friend request first.',
  'not-in-recipient-friends': 'You are not in the recipient\'s friend list. Ask them to accept your friend request.',
  'not-in-sender-friends': 'The recipient is not in your friend list. Add them as a friend first.',
  'blocklist-full': 'Your blocklist holds 1,000 users, the most it can. Unblock someone first.',
  'friends-full': 'A friend list holds at most 3,000 friends. Remove a friend first.',
  'request-not-found': 'There is no pending friend request from that user.',
  'already-friends': 'You are already friends with that user.',
  'self-relation': 'You cannot befriend or block yourself.',

  // Finding people: search and invite links
  'query-too-short': 'Type at least 3 characters to search for people.',
  'invite-not-found': 'This invite link does not work: it was revoked or never existed. Ask for a new one.',
  'invite-expired': 'This invite link has expired. Ask for a new one.',
  'invite-own': 'This is your own invite link: share it with someone else.',
  'too-many-invites': 'You have as many live invite links as you may. Revoke one first.',

  // Admin API
  'admin-required': 'This needs the admin key or an administrator\'s session.',
  'message-not-found': 'There is no such message in that conversation.',
  'too-many': 'Too many items in one request: at most 100 accounts, 500 recipients or 1,000 imported messages per call.',

  // Web Push
  'push-endpoint-forbidden': 'This push endpoint is not allowed: it must be an https URL on the default port of a push service this server accepts, at a public address. Notifications stay off on this device; the app works without them.',
  'push-subscription-invalid': 'This push subscription cannot be used: its keys must be a P-256 public key and a 16-byte secret.',

  // Link previews (HTTP)
  'link-forbidden': 'Parley does not fetch this link: it must be an http(s) URL on the default port at a public address. Send it without a preview.',
  'link-preview-unavailable': 'No preview for this link: the page did not answer in time, is not a web page, or has nothing to show. Send it without a preview.',
  'media-url-forbidden': 'Parley does not fetch media from this URL: it must be http(s) on the default port at a public address (or an origin PARLEY_COMPAT_MEDIA_ALLOW lists). Host the file there, or upload it to Parley.',
  'media-url-failed': 'The media URL could not be fetched: it did not answer, answered with an error, or took too long (PARLEY_COMPAT_MEDIA_TIMEOUT_MS). Check the URL and send again.',
  'link-previews-off': 'Link previews are turned off on this server. Send the link without a preview.',

  // Uploads and media (HTTP)
  'media-too-large': 'This is over the size limit: images and voice messages may be up to 28 MB, files and videos up to 100 MB. Send a smaller or compressed copy.',
  'upload-too-large': 'More bytes arrived than this upload declared. Start the upload again with the file\'s real size.',
  'upload-offset-mismatch': 'The server holds a different part of this upload than this chunk assumed. Resume from the offset it reports (the Upload-Offset header, or GET the upload).',
  'upload-incomplete': 'This upload is not finished: send the rest from the offset the server reports, then complete it.',
  'upload-not-found': 'There is no such upload: it was finished, cancelled or has expired. Start the upload again.',
  'hash-mismatch': 'The uploaded bytes do not match their SHA-256: the file changed or was damaged on the way. Upload it again.',
  'media-not-found': 'There is no such media, or you may not see it: only its uploader and the two members of a conversation it was sent in can.',
  'storage-full': 'The server is low on storage space, so it cannot take this now. Nothing was lost; try again later.',
  'storage-unavailable': 'The server cannot write to its storage right now, so it cannot take this now. Nothing was lost; try again later.',
  draining: 'This server process is shutting down (a restart or an upgrade) and takes no new connections. The app reconnects, to another process if there are several; nothing is lost.',
  'doc-moved': 'This conversation is now served by another process of this server. Nothing was lost: the app reconnects and syncs by itself.',
  'quota-exceeded': "Your media storage on this server is full (media you sent stays stored). Ask the server's operator for more space.",
  'too-many-uploads': 'Too many uploads are in progress for this account, or they declare too many bytes together. Finish or cancel some first (abandoned ones expire).',
  'avatar-invalid': 'An avatar must be an image uploaded to this server (a /api/v1/media/ address).',
  'range-not-satisfiable': 'The requested byte range lies outside this media. Ask for a range within its size.',

  // The app's backend, asked before a message is sent (PARLEY_CALLBACK_BEFORE_SEND).
  'callback-refused': "The app's server did not accept this message.",
  'callback-unavailable': "The app's server, which checks each message before it is sent, did not answer in time. Try again in a moment.",

  // HTTP
  'bad-request': 'The request is malformed.',
  'payload-too-large': 'The request body is over the size limit for this request.',
  'not-found': 'Nothing is here.',
  'user-not-found': 'There is no user with that id.',
  'app-token-invalid': 'The sign-in token from your app is not valid or has expired.',
  'usersig-invalid': "The sign-in signature (UserSig) from your app is not valid for this server. Ask the app's operator to check its SDKAppID and key; the hosted service's code follows.",
  'usersig-expired': 'The sign-in signature (UserSig) from your app has expired. Open the app again to get a new one.',
  'compat-off': "This server does not accept the hosted service's signatures: its operator has not set PARLEY_COMPAT_SDKAPPID and PARLEY_COMPAT_SECRET_KEY.",
  internal: 'Something went wrong on the server. Try again.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export const ERROR_CODES = Object.keys(ERROR_MESSAGES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_MESSAGES, value);
}

export function errorMessage(code: ErrorCode): string {
  return ERROR_MESSAGES[code];
}

/** The one shape of every HTTP error body. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string = ERROR_MESSAGES[code]): ErrorBody {
  return { error: { code, message } };
}
