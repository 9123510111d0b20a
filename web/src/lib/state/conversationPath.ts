/** Conversation URLs parsed (lib/shared/routes.ts builds them): the router's and the tests'. */

/** The peer (and message) of a conversation path, or null for another path or a malformed escape. */
export function parseConversationPath(path: string): { peer: string; messageId: string | null } | null {
  const match = /^\/c\/([^/]+)(?:\/m\/([^/]+))?\/?$/.exec(path);
  if (match === null) return null;
  try {
    const peer = decodeURIComponent(match[1] ?? '');
    const messageId = match[2] === undefined ? null : decodeURIComponent(match[2]);
    return peer === '' ? null : { peer, messageId };
  } catch {
    return null;
  }
}
