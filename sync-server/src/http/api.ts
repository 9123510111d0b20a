/** The HTTP API routes (`/api/v1/...`), as listed in docs/architecture.md. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  API_PREFIX,
  AppTokenRequest,
  ChangePasswordRequest,
  ChangePasswordResponse,
  DeleteAccountRequest,
  DeleteAccountResponse,
  DEFAULT_PRIVACY,
  Privacy,
  PrivacyPatch,
  ProfileEntry,
  ReadyResult,
  RefreshRequest,
  errorMessage,
  Session,
  SessionList,
  SignInRequest,
  SignUpRequest,
  UpdateProfileRequest,
  UserId,
  UserSigRequest,
  type ErrorCode,
} from '@parley/protocol';
import { PassThrough } from 'node:stream';
import type { Accounts } from '../auth/accounts.ts';
import type { AccountDeletion } from '../auth/deletion.ts';
import { exportFileName, writeExport } from '../auth/export.ts';
import { Refusal } from '../errors.ts';
import { checkAvatar } from '../auth/avatar.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Drain } from './drain.ts';
import { labelOf, type Sessions } from '../auth/sessions.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { LinkImages } from '../links/images.ts';
import type { LinkPreviews } from '../links/previews.ts';
import type { Media } from '../media/media.ts';
import type { PushService } from '../push/push.ts';
import type { People } from '../social/people.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { AdminOperations } from '../admin/operations.ts';
import type { CompatConfig } from '../config.ts';
import type { BeforeSend } from '../compat/before-send.ts';
import type { MediaFetcher } from '../compat/media-fetch.ts';
import { registerAdmin } from './admin.ts';
import { registerCompat } from './compat.ts';
import { withoutMediaCookie, withMediaCookie } from './cookies.ts';
import { registerHistory } from './history.ts';
import { registerLinks } from './links.ts';
import { parseBody } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { registerMedia } from './media.ts';
import { registerPush } from './push.ts';
import { RouteBook, type Caller } from './routes.ts';
import { registerPeople } from './people.ts';
import { registerSocial } from './social.ts';
import { registerUploads } from './uploads.ts';

export interface ApiDeps {
  accounts: Accounts;
  tokens: Tokens;
  sessions: Sessions;
  hub: SyncHub;
  storage: Storage;
  adminKey: string;
  push: PushService;
  media: Media;
  links: { previews: LinkPreviews; images: LinkImages };
  disk: DiskWatch;
  limits: RateLimits;
  /** People search and invite links. */
  people: People;
  /** Set once the process is asked to stop: readiness then says `draining`. */
  drain: Drain;
  /** Account deletion (DELETE /me). */
  deletion: AccountDeletion;
  /** The hosted service's REST API under /v4/, when configured (PARLEY_COMPAT_*). */
  compat: { config: CompatConfig; fetcher: MediaFetcher; beforeSend: BeforeSend | null } | null;
}


/** The refusals that count as a failed sign-in: a wrong password, or a UserSig that is not good (guessing at the key, or replaying old ones). */
const SIGNIN_FAILURES: ReadonlySet<ErrorCode> = new Set(['bad-credentials', 'usersig-invalid', 'usersig-expired']);

/**
 * A sign-in of `user` (a password, a UserSig) under the sign-in limits:
 * refused while blocked, failures counted, a success resets the
 * account+address streak.
 */
async function limitedSignIn(limits: RateLimits, user: string, address: string, attempt: () => Promise<Session>): Promise<Session> {
  await limits.checkSignIn(user, address);
  try {
    const session = await attempt();
    await limits.signInSucceeded(user, address);
    return session;
  } catch (error) {
    if (error instanceof Refusal && SIGNIN_FAILURES.has(error.code)) await limits.signInFailed(user, address);
    throw error;
  }
}

/**
 * Why the server refuses writes now, or is about to stop taking them: a
 * storage fault (a failed commit, until a probe commits), free space below
 * the reserve, a shutdown under way (draining).
 */
function readiness(hub: SyncHub, disk: DiskWatch, drain: Drain): ReadyResult {
  const reasons: ReadyResult['reasons'] = [];
  const fault = hub.health.fault;
  if (fault !== null) reasons.push({ code: fault.code, since: fault.since, message: `${errorMessage(fault.code)} (${fault.detail})` });
  const below = disk.fullSince();
  if (below !== null) reasons.push({ code: 'storage-full', since: below, message: `Free disk space is below the reserve (PARLEY_MIN_FREE_DISK_BYTES, ${disk.reserve} bytes): new messages and uploads are refused.` });
  if (drain.since !== null) reasons.push({ code: 'draining', since: drain.since, message: errorMessage('draining') });
  return { ready: reasons.length === 0, reasons };
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): RouteBook {
  const { accounts, tokens, sessions, hub, limits } = deps;
  const label = (request: { headers: { 'user-agent'?: string | undefined } }): string => labelOf(request.headers['user-agent']);
  const routes = new RouteBook(app);
  /** The caller of a Bearer route; refuses with the token's own code. */
  const caller: Caller = async (request) => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : undefined;
    const check = await tokens.verifyAccess(token);
    if (!check.ok) throw new Refusal(check.code);
    return check;
  };

  routes.add({ method: 'GET', url: `${API_PREFIX}/health`, summary: 'Liveness', auth: 'none', response: z.object({ ok: z.boolean() }) }, () =>
    Promise.resolve({ ok: true }),
  );

  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/ready`,
      summary: 'Readiness: whether the server takes writes and new sockets (503 with the reasons while it refuses them or is shutting down)',
      auth: 'none',
      response: ReadyResult,
    },
    (_request, reply) => {
      const ready = readiness(hub, deps.disk, deps.drain);
      return Promise.resolve(reply.status(ready.ready ? 200 : 503).send(ready));
    },
  );

  routes.add({ method: 'POST', url: `${API_PREFIX}/auth/signup`, summary: 'Create an account', auth: 'none', body: SignUpRequest, response: Session, status: 201 }, async (request, reply) => {
    await limits.signUp(request.ip);
    return withMediaCookie(request, reply, await accounts.signUp(parseBody(SignUpRequest, request.body), label(request)));
  });

  routes.add({ method: 'POST', url: `${API_PREFIX}/auth/signin`, summary: 'Sign in with a password', auth: 'none', body: SignInRequest, response: Session }, async (request, reply) => {
    const body = parseBody(SignInRequest, request.body);
    return withMediaCookie(request, reply, await limitedSignIn(limits, body.user, request.ip, () => accounts.signIn(body, label(request))));
  });

  routes.add(
    { method: 'POST', url: `${API_PREFIX}/auth/app-token`, summary: "Sign in with a token minted by the app's backend", auth: 'none', body: AppTokenRequest, response: Session },
    async (request, reply) => withMediaCookie(request, reply, await accounts.signInWithAppToken(parseBody(AppTokenRequest, request.body), label(request))),
  );

  routes.add(
    {
      method: 'POST',
      url: `${API_PREFIX}/auth/usersig`,
      summary:
        "Sign in with the hosted chat service's UserSig, signed by the app's backend for `user` (the user is created on first sign-in); 404 compat-off unless the server has the hosted service's app id and key",
      auth: 'none',
      body: UserSigRequest,
      response: Session,
    },
    async (request, reply) => {
      const body = parseBody(UserSigRequest, request.body);
      return withMediaCookie(request, reply, await limitedSignIn(limits, body.user, request.ip, () => accounts.signInWithUserSig(body, label(request))));
    },
  );

  routes.add(
    {
      method: 'POST',
      url: `${API_PREFIX}/auth/refresh`,
      summary: "A fresh access token for the refresh token's session and device, with the next refresh token (the one sent is dead from now on); no access token needed",
      auth: 'none',
      body: RefreshRequest,
      response: Session,
    },
    async (request, reply) => withMediaCookie(request, reply, await accounts.refresh(parseBody(RefreshRequest, request.body))),
  );

  routes.add(
    { method: 'POST', url: `${API_PREFIX}/auth/signout`, summary: "Sign the caller's session out: its tokens stop working, its sockets close", auth: 'user', status: 204 },
    async (request, reply) => {
      const { session } = await caller(request);
      await accounts.signOut(session);
      withoutMediaCookie(request, reply);
    },
  );

  routes.add(
    {
      method: 'POST',
      url: `${API_PREFIX}/me/password`,
      summary: "Change the caller's password (the current one is checked); every other session of the user is signed out",
      auth: 'user',
      body: ChangePasswordRequest,
      response: ChangePasswordResponse,
    },
    async (request) => {
      const { user, session } = await caller(request);
      return { signedOut: await accounts.changePassword(user, session, parseBody(ChangePasswordRequest, request.body)) };
    },
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/me/sessions`, summary: "The caller's signed-in devices", auth: 'user', response: SessionList }, async (request) => {
    const { user, session } = await caller(request);
    return { sessions: await sessions.list(user, session) };
  });

  routes.add(
    { method: 'DELETE', url: `${API_PREFIX}/me/sessions/:id`, summary: 'Sign one of the caller\'s devices out (404 for a session that is not theirs)', auth: 'user', status: 204 },
    async (request) => {
      const { user } = await caller(request);
      await sessions.revokeOf(user, (request.params as { id?: string }).id ?? '');
    },
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/me`, summary: "The caller's profile", auth: 'user', response: ProfileEntry }, async (request) =>
    accounts.profile((await caller(request)).user),
  );

  routes.add({ method: 'PATCH', url: `${API_PREFIX}/me`, summary: "Change the caller's profile", auth: 'user', body: UpdateProfileRequest, response: ProfileEntry }, async (request) => {
    const { user } = await caller(request);
    const patch = parseBody(UpdateProfileRequest, request.body ?? {});
    if (patch.avatar !== null) await checkAvatar(deps.storage, patch.avatar, user);
    const profile = await accounts.updateProfile(user, patch);
    await hub.inboxes.profileChanged(profile);
    return profile;
  });

  routes.add(
    {
      method: 'DELETE',
      url: `${API_PREFIX}/me`,
      summary:
        "Delete the caller's account (their password, or for an app-token account their user id typed again): every device signed out, every message they sent recalled and erased, their media, relations, invites and prefs gone; the id stays taken (a tombstone). Answers once the erasure is done",
      auth: 'user',
      body: DeleteAccountRequest,
      response: DeleteAccountResponse,
    },
    async (request, reply) => {
      const { user } = await caller(request);
      await deps.deletion.delete(user, parseBody(DeleteAccountRequest, request.body ?? {}));
      withoutMediaCookie(request, reply);
      return { deleted: true as const };
    },
  );

  routes.add(
    {
      method: 'GET',
      url: `${API_PREFIX}/me/export`,
      summary:
        "Download my data: one zip, streamed, with messages.json (every conversation's messages the caller may read), profile.json, contacts.json and media/<hash>.<ext> (the media they sent); 429 rate-limited past PARLEY_EXPORTS_PER_USER a day",
      auth: 'user',
      binaryResponse: true,
    },
    async (request, reply) => {
      const { user } = await caller(request);
      await limits.dataExport(user);
      const out = new PassThrough();
      writeExport(out, user, { storage: deps.storage, hub, media: deps.media }).catch((err: unknown) => {
        request.log.error({ err, user }, 'export: the archive failed half-way');
        out.destroy(err instanceof Error ? err : new Error(String(err)));
      });
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${exportFileName(user)}"`)
        .header('cache-control', 'no-store')
        .send(out);
    },
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/me/privacy`, summary: "The caller's privacy settings: read receipts, who sees their online state", auth: 'user', response: Privacy }, async (request) =>
    hub.privacyOf((await caller(request)).user),
  );

  routes.add(
    { method: 'PATCH', url: `${API_PREFIX}/me/privacy`, summary: "Change the caller's privacy settings (enforced by the server at once)", auth: 'user', body: PrivacyPatch, response: Privacy },
    async (request) => {
      const { user } = await caller(request);
      const patch = parseBody(PrivacyPatch, request.body ?? {});
      const record = await deps.storage.updateUser(user, patch);
      if (record === undefined) throw new Refusal('user-not-found');
      const privacy = record.privacy ?? DEFAULT_PRIVACY;
      hub.privacyChanged(user, privacy);
      return privacy;
    },
  );

  routes.add({ method: 'GET', url: `${API_PREFIX}/users/:id`, summary: "A user's profile", auth: 'user', response: ProfileEntry }, async (request) => {
    await caller(request);
    const id = UserId.safeParse((request.params as { id?: string }).id);
    if (!id.success) throw new Refusal('user-not-found');
    return accounts.profile(id.data);
  });

  registerSocial(routes, { ...deps, caller });
  registerPeople(routes, { ...deps, caller });
  registerHistory(routes, { ...deps, caller });
  registerAdmin(routes, deps);
  if (deps.compat !== null) {
    const ops = new AdminOperations({ hub, storage: deps.storage, disk: deps.disk, push: deps.push });
    registerCompat(routes, { hub, storage: deps.storage, ops, limits, fetcher: deps.compat.fetcher, beforeSend: deps.compat.beforeSend, compat: deps.compat.config });
  }
  registerPush(routes, { push: deps.push, caller });
  registerUploads(app, routes, { media: deps.media, caller });
  registerMedia(routes, { media: deps.media, tokens });
  registerLinks(routes, { ...deps.links, tokens, caller });

  routes.add({ method: 'GET', url: '/api/docs', summary: 'This OpenAPI 3.1 document', auth: 'none', response: z.record(z.string(), z.unknown()) }, () =>
    Promise.resolve(openApiDocument(routes.specs)),
  );
  return routes;
}
