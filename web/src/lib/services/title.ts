/**
 * The unread count in the document title ("(3) Parley") and on the app
 * badge, kept by the client's events (a conversation changed, a message
 * arrived) like any app embedding Parley would.
 */
import { setBadge } from '../pwa/pwa.ts';
import { loadLists, unreadTotal } from '../state/conversationList.ts';
import { clientEvents } from '../shared/events.ts';

const TITLE = 'Parley';
/** Events within this long are one count (a sync brings many). */
const RECOUNT_MS = 100;

/** Follows the signed-in user's unread count until the returned function is called. */
export function followUnread(me: string, onError: (e: unknown) => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const recount = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      loadLists(me)
        .then((lists) => {
          if (stopped) return;
          const unread = unreadTotal(lists);
          document.title = unread > 0 ? `(${unread > 999 ? '999+' : unread}) ${TITLE}` : TITLE;
          setBadge(unread);
        })
        .catch(onError);
    }, RECOUNT_MS);
  };
  const offConversation = clientEvents.on('conversation', recount);
  const offMessage = clientEvents.on('message', recount);
  recount();
  return () => {
    stopped = true;
    clearTimeout(timer);
    offConversation();
    offMessage();
    document.title = TITLE;
  };
}
