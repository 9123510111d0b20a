/**
 * History pages for the two members of a conversation
 * (`GET /api/v1/conversations/:peer/history`): the admin export, scoped to
 * the caller. A device that lacks part of a conversation (a new device, a
 * cleared cache) pages through it without opening every segment's document.
 */
import { API_PREFIX, HistoryPage, MemberHistoryQuery, SegmentList, UserId } from '@parley/protocol';
import { Refusal, type Accounts } from '../auth/accounts.ts';
import type { SyncHub } from '../sync/hub.ts';
import { parseBody } from './errors.ts';
import type { Caller, RouteBook } from './routes.ts';

export function registerHistory(routes: RouteBook, { hub, accounts, caller }: { hub: SyncHub; accounts: Accounts; caller: Caller }): void {
  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/conversations/:peer/history`,
      summary: "Pages of the caller's conversation with a peer, by time range and sequence cursor",
      auth: 'user',
      query: MemberHistoryQuery,
      response: HistoryPage,
    },
    async (request) => {
      const { user } = await caller(request);
      const peer = UserId.safeParse((request.params as { peer?: string }).peer);
      if (!peer.success || peer.data === user) throw new Refusal('user-not-found');
      await accounts.profile(peer.data); // user-not-found otherwise
      const q = parseBody(MemberHistoryQuery, request.query);
      const messages = await hub.history.page(user, peer.data, { from: q.from, to: q.to, cursor: q.cursor, limit: q.limit + 1 });
      const complete = messages.length <= q.limit;
      const page = messages.slice(0, q.limit);
      return { messages: page, next: complete ? null : (page.at(-1)?.seq ?? null), complete };
    },
  );

  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/conversations/:peer/segments`,
      summary: "The month segments of the caller's conversation with a peer that hold messages, oldest first, with their counts and sequence ranges",
      auth: 'user',
      response: SegmentList,
    },
    async (request) => {
      const { user } = await caller(request);
      const peer = UserId.safeParse((request.params as { peer?: string }).peer);
      if (!peer.success || peer.data === user) throw new Refusal('user-not-found');
      await accounts.profile(peer.data); // user-not-found otherwise
      return { segments: await hub.history.segments(user, peer.data) };
    },
  );
}
