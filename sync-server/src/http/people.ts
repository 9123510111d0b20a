/**
 * Finding people (`/api/v1/people`, `/api/v1/invites`; whether search finds
 * a user is a privacy setting, `/api/v1/me/privacy` in api.ts):
 * the rules are social/people.ts's. Invite tokens travel in request bodies,
 * never in a URL the server could log: resolving one is a POST for that
 * reason, though it changes nothing.
 */
import { z } from 'zod';
import { API_PREFIX, CreatedInvite, InviteAccepted, InviteInfo, InviteList, Ok, PeopleQuery, PeopleResult } from '@parley/protocol';
import type { People } from '../social/people.ts';
import { parseBody } from './errors.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Caller, RouteBook } from './routes.ts';

const TokenBody = z.object({ token: z.string().max(256) });

export function registerPeople(routes: RouteBook, { people, limits, caller }: { people: People; limits: RateLimits; caller: Caller }): void {
  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/people`,
      summary: 'Search people: ids by prefix and nicknames by the start of a word (at least 3 characters), among users who allow it; a hidden user only by exact id; 20 a page at most, rate-limited',
      auth: 'user',
      query: PeopleQuery,
      response: PeopleResult,
    },
    async (request) => {
      const { user } = await caller(request);
      const q = parseBody(PeopleQuery, request.query);
      await limits.peopleSearch(user);
      return people.search(user, q.q, q.cursor ?? null, q.limit);
    },
  );

  routes.add(
    { method: 'POST', url: `${API_PREFIX}/invites`, summary: 'Make an invite link (its token is in this answer only); live links per user are capped', auth: 'user', response: CreatedInvite, status: 201 },
    async (request) => people.createInvite((await caller(request)).user),
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/invites`, summary: "The caller's live invite links (without their tokens)", auth: 'user', response: InviteList }, async (request) => ({
    invites: await people.invites((await caller(request)).user),
  }));

  routes.add({ method: 'DELETE', url: `${API_PREFIX}/invites/:id`, summary: 'Revoke one of the caller\'s invite links', auth: 'user', response: Ok }, async (request) => {
    const { user } = await caller(request);
    await people.revokeInvite(user, (request.params as { id?: string }).id ?? '');
    return { ok: true as const };
  });

  routes.add(
    { method: 'POST', url: `${API_PREFIX}/invites/resolve`, summary: "Who made an invite link, until when (no sign-in: the landing page shows it); invite-not-found or invite-expired", auth: 'none', body: TokenBody, response: InviteInfo },
    async (request) => {
      const { inviter, expires } = await people.resolve(parseBody(TokenBody, request.body).token);
      return { inviter, expires };
    },
  );

  routes.add(
    {
      method: 'POST',
      url: `${API_PREFIX}/invites/accept`,
      summary: 'Take up an invite link: a chat with the inviter, or a friend request to them when the install is friends-only',
      auth: 'user',
      body: TokenBody,
      response: InviteAccepted,
    },
    async (request) => {
      const { user } = await caller(request);
      return people.accept(user, parseBody(TokenBody, request.body).token);
    },
  );
}
