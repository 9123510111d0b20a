/**
 * The admin API (`/api/v1/admin/...`): authenticated by the admin key
 * (`Authorization: Bearer <key>` or `X-Admin-Key`) or an admin user's access
 * token. Messages it sends bypass friend and blocklist checks (as the hosted
 * service's admin send) and are written by the server into the conversation
 * document, stamped and counted like a client's.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  AdminBatchSendBody,
  AdminNotifyBody,
  AdminSendBody,
  AdminSendResult,
  API_PREFIX,
  BatchResult,
  HistoryPage,
  HistoryQuery,
  ImportAccountsBody,
  ImportAccountsResult,
  ImportFriendsBody,
  ImportMessagesBody,
  ImportMessagesResult,
  LIMITS,
  Ok,
  OnlineResult,
  OnlineStatesBody,
  OnlineStatesResult,
  RecallBody,
  SettingsBody,
  SettingsPatchBody,
  UserId,
  type Element,
} from '@parley/protocol';
import type { Tokens } from '../auth/tokens.ts';
import { AdminOperations } from '../admin/operations.ts';
import type { PushService } from '../push/push.ts';
import { Refusal } from '../errors.ts';
import type { DiskWatch } from '../storage/disk.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { parseBody } from './errors.ts';
import type { RateLimits } from './rate-limits.ts';
import type { RouteBook } from './routes.ts';

const ADMIN = `${API_PREFIX}/admin`;
/** The id the admin API's own actions are recorded under (recalls). */
const ADMIN_ACTOR = '@admin';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerAdmin(
  routes: RouteBook,
  { hub, storage, tokens, adminKey, disk, limits, push }: { hub: SyncHub; storage: Storage; tokens: Tokens; adminKey: string; disk: DiskWatch; limits: RateLimits; push: Pick<PushService, 'reachable'> },
): void {
  /**
   * Who is acting: the admin key, or an admin user's access token; anything
   * else is refused. A wrong key (an X-Admin-Key, or a bearer that is neither
   * the key nor an access token) counts against the client address,
   * which is refused every admin attempt once it has too many.
   */
  const admin = async (request: FastifyRequest): Promise<string> => {
    const header = request.headers.authorization;
    const bearer = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : undefined;
    const key = request.headers['x-admin-key'];
    if (bearer === undefined && key === undefined) throw new Refusal('token-missing');
    await limits.checkAdminKey(request.ip);
    if (typeof key === 'string' && sameSecret(key, adminKey)) return ADMIN_ACTOR;
    if (bearer !== undefined && sameSecret(bearer, adminKey)) return ADMIN_ACTOR;
    const check = await tokens.verifyAccess(bearer);
    if (check.ok && (await storage.getUser(check.user))?.role === 'admin') return check.user;
    // A guess: a wrong X-Admin-Key, or a bearer that is no token at all (an expired one is no guess).
    if (key !== undefined || (!check.ok && check.code === 'token-invalid')) await limits.adminKeyFailed(request.ip);
    throw new Refusal('admin-required');
  };

  const ops = new AdminOperations({ hub, storage, disk, push });

  routes.add({ method: 'GET', url: `${ADMIN}/settings`, summary: 'Install-wide settings', auth: 'admin', response: SettingsBody }, async (request) => {
    await admin(request);
    await hub.settings.load();
    return hub.settings.get();
  });

  routes.add(
    { method: 'PUT', url: `${ADMIN}/settings`, summary: 'Change settings (applies to the next message)', auth: 'admin', body: SettingsPatchBody, response: SettingsBody },
    async (request) => {
      await admin(request);
      await hub.settings.load();
      return hub.settings.update(parseBody(SettingsPatchBody, request.body));
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/accounts`, summary: 'Import 1 to 100 accounts (id, nickname, avatar)', auth: 'admin', body: ImportAccountsBody, response: ImportAccountsResult },
    async (request) => {
      await admin(request);
      return ops.importAccounts(parseBody(ImportAccountsBody, request.body).accounts);
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/friends`, summary: "Import friends into a user's list (one way unless bothWays)", auth: 'admin', body: ImportFriendsBody, response: Ok },
    async (request) => {
      await admin(request);
      const { user, friends, bothWays } = parseBody(ImportFriendsBody, request.body);
      for (const id of [user, ...friends]) if ((await storage.getUser(id)) === undefined) throw new Refusal('user-not-found');
      await hub.relations.addFriends(user, friends, bothWays);
      return { ok: true as const };
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/messages`, summary: 'Send a message as any user to any user (no friend or blocklist check)', auth: 'admin', body: AdminSendBody, response: AdminSendResult, status: 201 },
    async (request) => {
      await admin(request);
      const b = parseBody(AdminSendBody, request.body);
      await ops.checkDisk();
      return ops.send(await ops.compose(b.from, b.to, b.type, b.body, b.id, b.ts), b.syncToSender);
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/messages/batch`, summary: 'Send one message as a user to up to 500 users', auth: 'admin', body: AdminBatchSendBody, response: BatchResult },
    async (request) => {
      await admin(request);
      const b = parseBody(AdminBatchSendBody, request.body);
      await ops.checkDisk();
      return ops.sendEach(b.to, (to) => ops.compose(b.from, to, b.type, b.body), b.syncToSender);
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/notifications`, summary: 'System notices (friend-added, message-recalled, custom) to up to 500 users', auth: 'admin', body: AdminNotifyBody, response: BatchResult },
    async (request) => {
      await admin(request);
      const b = parseBody(AdminNotifyBody, request.body);
      await ops.checkDisk();
      const element: Element = { type: 'system', kind: b.kind, text: b.text, ...(b.title === undefined ? {} : { title: b.title }) };
      return ops.sendEach(b.to, (to) => ops.compose(b.from, to, 'system', [element]), true);
    },
  );

  routes.add(
    {
      method: 'POST',
      url: `${ADMIN}/messages/import`,
      summary: 'Import 1 to 1,000 messages of history: ids and times kept, each in its month segment, sequenced by time; ids present already are skipped',
      auth: 'admin',
      body: ImportMessagesBody,
      response: ImportMessagesResult,
      // 1,000 messages of up to 12 KB each, with room for their JSON.
      bodyLimit: LIMITS.messageImportBatch * (LIMITS.bodyBytes + 1024),
    },
    async (request) => {
      await admin(request);
      const raw = (request.body as { messages?: unknown } | null)?.messages;
      if (Array.isArray(raw) && raw.length > LIMITS.messageImportBatch) throw new Refusal('too-many');
      const b = parseBody(ImportMessagesBody, request.body);
      await ops.checkDisk();
      return ops.importMessages(b.messages, b.live);
    },
  );

  routes.add(
    { method: 'GET', url: `${ADMIN}/history`, summary: "A pair's history, paged by time range and sequence cursor", auth: 'admin', query: HistoryQuery, response: HistoryPage },
    async (request) => {
      await admin(request);
      const q = parseBody(HistoryQuery, request.query);
      const messages = await hub.history.page(q.a, q.b, { from: q.from, to: q.to, cursor: q.cursor, limit: q.limit + 1 });
      const complete = messages.length <= q.limit;
      const page = messages.slice(0, q.limit);
      return { messages: page, next: complete ? null : (page.at(-1)?.seq ?? null), complete };
    },
  );

  routes.add(
    { method: 'POST', url: `${ADMIN}/messages/recall`, summary: 'Recall any message: content erased, a recalled marker left', auth: 'admin', body: RecallBody, response: Ok },
    async (request) => {
      const actor = await admin(request);
      const { a, b, id } = parseBody(RecallBody, request.body);
      await hub.recalls.recall(a, b, id, actor);
      return { ok: true as const };
    },
  );

  routes.add({ method: 'GET', url: `${ADMIN}/users/:id/online`, summary: "Which of a user's devices are online", auth: 'admin', response: OnlineResult }, async (request) => {
    await admin(request);
    const id = UserId.safeParse((request.params as { id?: string }).id);
    if (!id.success) throw new Refusal('user-not-found');
    const devices = hub.devicesOnline(id.data);
    return { user: id.data, online: devices.length > 0, devices };
  });

  routes.add(
    {
      method: 'POST',
      url: `${ADMIN}/users/online`,
      summary: 'The online state of up to 500 users: online (a device holds the app open), push (reachable by Web Push) or offline',
      auth: 'admin',
      body: OnlineStatesBody,
      response: OnlineStatesResult,
    },
    async (request) => {
      await admin(request);
      const { users } = parseBody(OnlineStatesBody, request.body);
      return { users: await ops.onlineStates(users) };
    },
  );
}
