/** The user's friends, friend requests and blocklist (`/api/v1/friends`, `/api/v1/blocklist`). */

import { API_PREFIX, Blocklist, FriendList, FriendRequestBody, FriendRequests, Ok, UserId } from '@parley/protocol';
import type { Accounts } from '../auth/accounts.ts';
import { Refusal } from '../errors.ts';
import type { SyncHub } from '../sync/hub.ts';
import { parseBody } from './errors.ts';
import type { Caller, RouteBook } from './routes.ts';

const idParam = (params: unknown, name = 'id'): string => {
  const id = UserId.safeParse((params as Record<string, string | undefined>)[name]);
  if (!id.success) throw new Refusal('user-not-found');
  return id.data;
};

export function registerSocial(routes: RouteBook, { hub, accounts, caller }: { hub: SyncHub; accounts: Accounts; caller: Caller }): void {
  const { relations } = hub;
  const ok = { ok: true as const };
  const exists = async (id: string): Promise<void> => {
    await accounts.profile(id); // user-not-found otherwise
  };

  routes.add({ method: 'GET', url: `${API_PREFIX}/friends`, summary: "The caller's friend list", auth: 'user', response: FriendList }, async (request) => {
    const rel = await relations.load((await caller(request)).user);
    return { friends: [...rel.friends].map(([id, s]) => ({ id, since: s.created })) };
  });

  routes.add(
    { method: 'POST', url: `${API_PREFIX}/friends/requests`, summary: 'Ask a user to be friends, with a short note', auth: 'user', body: FriendRequestBody, response: Ok, status: 201 },
    async (request) => {
      const { user } = await caller(request);
      const { to, note } = parseBody(FriendRequestBody, request.body);
      await exists(to);
      await relations.request(user, to, note ?? null);
      return ok;
    },
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/friends/requests`, summary: 'Friend requests sent to and by the caller', auth: 'user', response: FriendRequests }, async (request) => {
    const rel = await relations.load((await caller(request)).user);
    return {
      incoming: [...rel.requestsIn].map(([from, s]) => ({ from, note: s.note ?? '', ts: s.created })),
      outgoing: [...rel.requestsOut].map(([to, s]) => ({ to, note: s.note ?? '', ts: s.created })),
    };
  });

  routes.add({ method: 'POST', url: `${API_PREFIX}/friends/requests/:from/accept`, summary: 'Accept a friend request (friends both ways)', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    await relations.accept(user, idParam(request.params, 'from'));
    return ok;
  });

  routes.add({ method: 'POST', url: `${API_PREFIX}/friends/requests/:from/decline`, summary: 'Decline a friend request', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    await relations.decline(user, idParam(request.params, 'from'));
    return ok;
  });

  routes.add({ method: 'DELETE', url: `${API_PREFIX}/friends/:id`, summary: 'Remove a friend (both ways)', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    await relations.remove(user, idParam(request.params));
    return ok;
  });

  routes.add({ method: 'GET', url: `${API_PREFIX}/blocklist`, summary: "The caller's blocklist", auth: 'user', response: Blocklist }, async (request) => {
    const rel = await relations.load((await caller(request)).user);
    return { blocked: [...rel.blocked].map(([id, s]) => ({ id, since: s.created })) };
  });

  routes.add({ method: 'PUT', url: `${API_PREFIX}/blocklist/:id`, summary: 'Block a user (at most 1,000)', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    const other = idParam(request.params);
    await exists(other);
    await relations.block(user, other);
    return ok;
  });

  routes.add({ method: 'DELETE', url: `${API_PREFIX}/blocklist/:id`, summary: 'Unblock a user', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    await relations.unblock(user, idParam(request.params));
    return ok;
  });
}

