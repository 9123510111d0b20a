/**
 * How a recall reads, in one wording everywhere: the notice in the
 * conversation, the conversation list's preview, on every device of the
 * sender and of the peer. `by` is who recalled (the sender, or `@admin`).
 */
export function recallText(by: string, me: string, peerName: string): string {
  if (by === '@admin') return 'A message was recalled by an admin';
  return by === me ? 'You recalled a message' : `${peerName} recalled a message`;
}
