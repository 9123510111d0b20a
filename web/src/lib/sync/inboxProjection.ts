/**
 * Inbox projection: keeps the read model in step with the user's inbox
 * document (the conversation list, profiles, friends, blocks and requests:
 * through the projector), and tells from its socket whether the server is
 * reachable and whether the list is catching up. New messages and changed
 * conversations are announced as client events.
 */
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { CLOSE_SERVICE_RESTART } from '@parley/protocol';
import type { RelationRow } from '../db.ts';
import { observeBatches } from './batch.ts';
import { inboxChangedAfterRecall } from './extras.ts';
import { conversationRow, profileRow, relationRow } from './materialise.ts';
import { projectInbox } from './projector.ts';
import type { Typing } from './typing.ts';
import { clientEvents, newMessages, type MessageEvent } from '../shared/events.ts';

export interface InboxContext {
  /** Whether the server answers (navigator.onLine alone is not to be trusted). */
  reachable: (reachable: boolean) => void;
  /** The inbox is connected and catching up. */
  catchingUp: (value: boolean) => void;
  typing: Typing;
  /** A block or an unblock decides whether receipts are written: catch them up. */
  refreshReceipts: () => void;
  /** Compacts the inbox document (an entry rewritten after a recall: its stored updates hold the old preview). */
  compact: () => void;
  /** Conversations changed: the background sync looks for segments to fetch. */
  schedule: () => void;
  error: (e: unknown) => void;
}

export function attachInbox(doc: Y.Doc, provider: WebsocketProvider, ctx: InboxContext): () => void {
  const conversations = doc.getMap<unknown>('conversations');
  const profiles = doc.getMap<unknown>('profiles');
  const { catchingUp } = ctx;
  const onStatus = ({ status }: { status: string }): void => {
    if (status === 'connected') ctx.reachable(true);
    catchingUp(status === 'connected' && !provider.synced);
  };
  // A close we did not ask for (event null is our own) that is no refusal (44xx) means the server is out of reach,
  // unless its process is restarting (1012): y-websocket reconnects at once, through a proxy to another process,
  // and a failed attempt says unreachable then (connection-error).
  const onClose = (event: CloseEvent | null): void => {
    if (event !== null && !(event.code >= 4400 && event.code < 4500) && event.code !== CLOSE_SERVICE_RESTART) ctx.reachable(false);
    catchingUp(false);
  };
  const onError = (): void => ctx.reachable(false);
  provider.on('status', onStatus);
  provider.on('connection-close', onClose);
  provider.on('connection-error', onError);
  const onAwareness = (): void => ctx.typing.relayed(provider.awareness, doc.clientID);
  provider.awareness.on('change', onAwareness);
  // Whether this device's inbox has been in step with the server before (a stored copy, or a sync since):
  // until then a conversation new to the device is history, not news (shared/events.ts newMessages).
  let known = doc.store.clients.size > 0;
  const onSync = (isSynced: boolean): void => {
    if (isSynced) known = true;
    if (isSynced) catchingUp(false);
  };
  provider.on('sync', onSync);
  const relationMaps = (['friends', 'blocklist', 'requests'] as const).map((name) => [name, doc.getMap<unknown>(name)] as const);
  const detach = observeBatches(doc, [conversations, profiles, ...relationMaps.map(([, m]) => m)], (changed) => {
    // A block or an unblock decides whether receipts are written (receipts.ts): catch them up after an unblock.
    if ([...(changed.get(doc.getMap<unknown>('blocklist')) ?? [])].length > 0) ctx.refreshReceipts();
    const convRows = [...(changed.get(conversations) ?? [])].map((k) => conversationRow(conversations.get(k)));
    const profileRows = [...(changed.get(profiles) ?? [])].map((k) => profileRow(profiles.get(k)));
    const relationPuts: RelationRow[] = [];
    const relationDeletes: string[] = [];
    for (const [name, map] of relationMaps) {
      for (const key of changed.get(map) ?? []) {
        const row = map.has(key) ? relationRow(name, key, map.get(key)) : null;
        if (row !== null) relationPuts.push(row);
        else if (name === 'requests') relationDeletes.push(key);
        else relationDeletes.push(`${name === 'friends' ? 'friend' : 'block'}|${key}`);
      }
    }
    const live = known;
    let news: MessageEvent[] = [];
    const rows = convRows.filter((r) => r !== null);
    // A row a push wrote is ahead of this (possibly stale, local) inbox copy until the inbox reaches its sequence.
    projectInbox(rows, profileRows.filter((r) => r !== null), relationPuts, relationDeletes)
      .then((held) => {
        news = newMessages(rows, held, live);
        // An entry rewritten after a recall: the stored inbox updates still hold the old preview.
        if (inboxChangedAfterRecall(changed.get(conversations) ?? [])) ctx.compact();
        for (const row of rows) clientEvents.emit('conversation', { peer: row.peer });
        for (const event of news) clientEvents.emit('message', event);
      })
      .then(() => ctx.schedule())
      .catch(ctx.error);
  });
  return () => {
    detach();
    provider.off('status', onStatus);
    provider.off('connection-close', onClose);
    provider.off('connection-error', onError);
    provider.off('sync', onSync);
    provider.awareness.off('change', onAwareness);
    ctx.typing.clearRelayed();
    catchingUp(false);
  };
}
