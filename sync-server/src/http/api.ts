/** The HTTP API routes (`/api/v1/...`), as listed in docs/architecture.md. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  API_PREFIX,
  AppTokenRequest,
  RefreshRequest,
  SignInRequest,
  SignUpRequest,
  UpdateProfileRequest,
  UserId,
} from '@parley/protocol';
import { Refusal, type Accounts } from '../auth/accounts.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { SyncHub } from '../sync/hub.ts';
import { parseBody } from './errors.ts';

export interface ApiDeps {
  accounts: Accounts;
  tokens: Tokens;
  hub: SyncHub;
}

export function registerApi(app: FastifyInstance, { accounts, tokens, hub }: ApiDeps): void {
  /** The caller of a Bearer route; refuses with the token's own code. */
  const caller = async (request: FastifyRequest): Promise<{ user: string; device: string }> => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : undefined;
    const check = await tokens.verifyAccess(token);
    if (!check.ok) throw new Refusal(check.code);
    return check;
  };

  app.get(`${API_PREFIX}/health`, () => ({ ok: true }));

  app.post(`${API_PREFIX}/auth/signup`, async (request, reply) => {
    const session = await accounts.signUp(parseBody(SignUpRequest, request.body));
    return reply.status(201).send(session);
  });

  app.post(`${API_PREFIX}/auth/signin`, async (request) => accounts.signIn(parseBody(SignInRequest, request.body)));

  app.post(`${API_PREFIX}/auth/app-token`, async (request) => accounts.signInWithAppToken(parseBody(AppTokenRequest, request.body)));

  app.post(`${API_PREFIX}/auth/refresh`, async (request) => {
    const { user } = await caller(request);
    const { device } = parseBody(RefreshRequest, request.body);
    return accounts.refresh(user, device);
  });

  app.get(`${API_PREFIX}/me`, async (request) => accounts.profile((await caller(request)).user));

  app.patch(`${API_PREFIX}/me`, async (request) => {
    const { user } = await caller(request);
    const patch = parseBody(UpdateProfileRequest, request.body ?? {});
    const profile = await accounts.updateProfile(user, patch);
    await hub.profileChanged(profile);
    return profile;
  });

  app.get<{ Params: { id: string } }>(`${API_PREFIX}/users/:id`, async (request) => {
    await caller(request);
    const id = UserId.safeParse(request.params.id);
    if (!id.success) throw new Refusal('user-not-found');
    return accounts.profile(id.data);
  });
}
