/**
 * What the service worker tells a window of the app (postMessage): open a
 * conversation, after a click on its notification (push/openConversation.ts
 * sends it, pwa/pwa.ts acts on it). A leaf, so both sides read one shape.
 */
export const OPEN_CONVERSATION = 'open-conversation';

export interface OpenConversation {
  type: typeof OPEN_CONVERSATION;
  peer: string;
}

export function isOpenConversation(data: unknown): data is OpenConversation {
  const d = data as Partial<OpenConversation> | null;
  return d?.type === OPEN_CONVERSATION && typeof d.peer === 'string' && d.peer !== '';
}
