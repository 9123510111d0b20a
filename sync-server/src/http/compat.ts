/**
 * The hosted service's REST API under `/v4/` (docs/migrating.md), on when
 * PARLEY_COMPAT_SDKAPPID and PARLEY_COMPAT_SECRET_KEY are set: its URLs
 * (`/v4/<service>/<command>?sdkappid=…&identifier=…&usersig=…&random=…&contenttype=json`),
 * its request and answer shapes and its numeric error codes, always with
 * HTTP 200 and `ActionStatus`/`ErrorCode`/`ErrorInfo`, as its backends
 * expect. Every call is mapped onto Parley's own operations (admin/operations.ts,
 * the hub's relations, history and recalls): no rule is implemented twice.
 *
 * The caller is an administrator: `identifier` one of PARLEY_COMPAT_ADMINS,
 * with a UserSig for it signed with the secret key. A failed signature
 * counts against the address like a wrong admin key (http/rate-limits.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isErrorCode, Message, mediaUrl, type ErrorCode, type PushOptions } from '@parley/protocol';
import {
  TimAccountImport,
  TimBatchSendMsg,
  TimBatchSendResult,
  TimBlackListChange,
  TimBlackListGet,
  TimBlackListGetResult,
  TimFriendCheck,
  TimFriendCheckResult,
  TimFriendDelete,
  TimFriendImport,
  TimGetRoamMsg,
  TimImportMsg,
  TimModifyMsg,
  TimMsgWithdraw,
  TimMultiAccountImport,
  TimMultiImportResult,
  TimOk,
  TimOnlineResult,
  TimQuery,
  TimQueryOnline,
  TimResultItems,
  TimRoamResult,
  TimSendMsg,
  TimSendResult,
  type TimElem,
} from '@parley/protocol/compat';
import type { AdminOperations } from '../admin/operations.ts';
import type { BeforeSend } from '../compat/before-send.ts';
import type { CompatConfig } from '../config.ts';
import { Refusal } from '../errors.ts';
import { fromTimBody } from '../compat/from-tim.ts';
import { compatMessageId, importedMessageId, msgRandomOf } from '../compat/keys.ts';
import type { MediaFetcher } from '../compat/media-fetch.ts';
import { toTimBody } from '../compat/tim-body.ts';
import { verifyUserSig } from '../compat/usersig.ts';
import type { Storage } from '../storage/storage.ts';
import type { SyncHub } from '../sync/hub.ts';
import { JSON_FAILURE, V4_PREFIX } from './compat-bodies.ts';
import type { RateLimits } from './rate-limits.ts';
import type { RouteBook } from './routes.ts';

/** Who the `/v4/` surface's recalls are recorded as. */
const ADMIN_ACTOR = '@admin';

type Service = 'openim' | 'im_open_login_svc' | 'sns';

/** A refusal in the hosted service's terms: its numeric code and a text. */
export class TimFailure extends Error {
  constructor(
    readonly code: number,
    readonly info: string,
  ) {
    super(info);
  }
}

/** Each service's codes for a malformed request and for a fault of the server. */
const SERVICE_CODES: Record<Service, { param: number; internal: number; noUser: number }> = {
  openim: { param: 90010, internal: 90994, noUser: 20003 },
  im_open_login_svc: { param: 70402, internal: 70500, noUser: 70107 },
  sns: { param: 30001, internal: 30006, noUser: 30003 },
};

/** Parley's refusals in the hosted service's numbers (docs/migrating.md lists them); a code not here is the service's param or internal code. */
const MAPPED: Partial<Record<ErrorCode, number>> = {
  'body-too-long': 93000,
  'too-many': 90011,
  'message-not-found': 20022,
  'message-recalled': 20016,
  'friends-full': 30010,
  'self-relation': 30001,
  'admin-required': 70403,
  'rate-limited': 60011,
  'media-too-large': 90002,
  'media-url-forbidden': 90002,
  'media-url-failed': 90002,
  'quota-exceeded': 90002,
  'user-id-reserved': 70402,
  'user-exists': 70402,
};
const INTERNAL: ReadonlySet<ErrorCode> = new Set(['storage-full', 'storage-unavailable', 'internal', 'doc-moved']);

export function timCodeOf(service: Service, code: ErrorCode): number {
  const codes = SERVICE_CODES[service];
  if (code === 'user-not-found' || code === 'account-deleted') return codes.noUser;
  if (INTERNAL.has(code)) return codes.internal;
  if (service !== 'openim' && (code === 'too-many' || code === 'bad-request')) return codes.param;
  return MAPPED[code] ?? codes.param;
}

/** The answer to a failed call: HTTP 200 with the hosted service's fields, Parley's own code named in the text. */
export function timFailure(service: Service, error: unknown): { ActionStatus: 'FAIL'; ErrorCode: number; ErrorInfo: string } {
  if (error instanceof TimFailure) return { ActionStatus: 'FAIL', ErrorCode: error.code, ErrorInfo: error.info };
  if (error instanceof Refusal && isErrorCode(error.code)) {
    return { ActionStatus: 'FAIL', ErrorCode: timCodeOf(service, error.code), ErrorInfo: `${error.message} (${error.code})` };
  }
  return { ActionStatus: 'FAIL', ErrorCode: SERVICE_CODES[service].internal, ErrorInfo: 'internal error (internal)' };
}


export interface CompatDeps {
  hub: SyncHub;
  storage: Storage;
  ops: AdminOperations;
  limits: RateLimits;
  fetcher: MediaFetcher;
  /** The app backend's before-send check (PARLEY_CALLBACK_BEFORE_SEND), asked for `/v4/` sends too. */
  beforeSend: BeforeSend | null;
  compat: CompatConfig;
}

export function registerCompat(routes: RouteBook, { hub, storage, ops, limits, fetcher, beforeSend, compat }: CompatDeps): void {
  /** The caller's identifier, once its UserSig checks out for an administrator of this app. */
  const authenticate = async (request: FastifyRequest): Promise<string> => {
    const query = TimQuery.safeParse(request.query);
    if (!query.success) throw new TimFailure(60002, `the URL needs sdkappid, identifier, usersig and contenttype=json (${query.error.issues.map((i) => i.path.join('.')).join(', ')})`);
    const { sdkappid, identifier, usersig } = query.data;
    await limits.checkAdminKey(request.ip);
    if (sdkappid !== compat.sdkAppId) throw new TimFailure(70014, `sdkappid ${sdkappid} is not this app's`);
    const check = verifyUserSig(usersig, { sdkAppId: compat.sdkAppId, secretKey: compat.secretKey, identifier });
    if (!check.ok) {
      await limits.adminKeyFailed(request.ip);
      throw new TimFailure(check.code, `UserSig refused: ${check.detail}`);
    }
    if (!compat.admins.includes(identifier)) throw new TimFailure(70403, `${identifier} is not an app administrator (PARLEY_COMPAT_ADMINS)`);
    return identifier;
  };

  const v4 = <S extends z.ZodType>(
    service: Service,
    command: string,
    spec: { summary: string; body: S; response: z.ZodType; bodyLimit?: number },
    handle: (body: z.output<S>, identifier: string) => Promise<object>,
  ): void => {
    routes.add(
      { method: 'POST', url: `${V4_PREFIX}/${service}/${command}`, summary: `Hosted-service compatible: ${spec.summary}`, auth: 'usersig', body: spec.body, response: spec.response, ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }) },
      async (request) => {
        try {
          const identifier = await authenticate(request);
          if (request.body === null || typeof request.body !== 'object') throw new TimFailure(90001, JSON_FAILURE.ErrorInfo);
          const parsed = spec.body.safeParse(request.body);
          if (!parsed.success) {
            throw new TimFailure(SERVICE_CODES[service].param, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
          }
          return { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...(await handle(parsed.data, identifier)) };
        } catch (error) {
          return timFailure(service, error);
        }
      },
    );
  };

  /** A user this call names, or the service's "no such account" refusal. */
  const existing = async (service: Service, id: string, code?: number): Promise<void> => {
    const user = await storage.getUser(id);
    if (user === undefined || user.deleted != null) throw new TimFailure(code ?? SERVICE_CODES[service].noUser, `${id} is not an account here: import it first (im_open_login_svc/account_import)`);
  };

  /** The body in Parley's elements; a media URL that cannot be fetched refuses the body (90002). */
  const bodyOf = async (elems: readonly TimElem[], from: string, to: string) => {
    try {
      return await fromTimBody(elems, { from, to }, fetcher);
    } catch (error) {
      if (error instanceof Refusal) throw new TimFailure(error.code === 'bad-request' ? 90002 : timCodeOf('openim', error.code), `MsgBody: ${error.message} (${error.code})`);
      throw error;
    }
  };

  /** OfflinePushInfo and MsgLifeTime as Parley's push options. */
  const pushOf = (b: { MsgLifeTime?: number | undefined; OfflinePushInfo?: { PushFlag?: 0 | 1 | undefined; Title?: string | undefined; Desc?: string | undefined } | undefined }): PushOptions | undefined => {
    const info = b.OfflinePushInfo;
    const push: PushOptions = {
      ...(info?.PushFlag === 1 || b.MsgLifeTime === 0 ? { off: true as const } : {}),
      ...(info?.Title !== undefined && info.Title !== '' ? { title: info.Title } : {}),
      ...(info?.Desc !== undefined && info.Desc !== '' ? { text: info.Desc } : {}),
      ...(b.MsgLifeTime !== undefined && b.MsgLifeTime > 0 ? { ttl: b.MsgLifeTime } : {}),
    };
    return Object.keys(push).length === 0 ? undefined : push;
  };

  const seconds = (ms: number): number => Math.floor(ms / 1000);

  /**
   * The message as the backend's before-send check leaves it (as the hosted
   * service asks for REST sends too, unless ForbidCallbackControl says
   * ForbidBeforeSendMsgCallback): null when it is to be dropped (the caller
   * is told it was sent), a 20006 failure when it is refused.
   */
  const vetted = async (message: Message, control: readonly string[] | undefined): Promise<Message | null> => {
    if (beforeSend === null || control?.includes('ForbidBeforeSendMsgCallback') === true) return message;
    const verdict = await beforeSend.ask(message);
    if (verdict.verdict === 'drop') return null;
    if (verdict.verdict === 'refuse') throw new TimFailure(verdict.code === 'callback-refused' ? 20006 : SERVICE_CODES.openim.internal, `${verdict.message} (${verdict.code})`);
    if (verdict.body === undefined) return message;
    const main = verdict.body.find((e) => e.type !== 'text') ?? verdict.body[0];
    return Message.parse({ ...message, body: verdict.body, type: main?.type ?? message.type });
  };

  v4('openim', 'sendmsg', { summary: 'send one message as any user (no friend or blocklist check)', body: TimSendMsg, response: TimSendResult }, async (b, identifier) => {
    const from = b.From_Account ?? identifier;
    await existing('openim', from);
    await existing('openim', b.To_Account, 90012);
    await ops.checkDisk();
    const now = Date.now();
    const id = compatMessageId(from, b.To_Account, b.MsgRandom, now);
    const { type, body } = await bodyOf(b.MsgBody, from, b.To_Account);
    const message = await vetted(await ops.compose(from, b.To_Account, type, body, id, now, pushOf(b)), b.ForbidCallbackControl);
    try {
      if (message !== null) await ops.send(message, b.SyncOtherMachine !== 2);
    } catch (error) {
      // The same MsgRandom from the same sender to the same user today: a retry, answered as the first.
      if (!(error instanceof Refusal && error.code === 'duplicate-id')) throw error;
    }
    return { MsgTime: seconds(now), MsgKey: id };
  });

  v4('openim', 'batchsendmsg', { summary: 'send one message as any user to up to 500 users', body: TimBatchSendMsg, response: TimBatchSendResult }, async (b, identifier) => {
    const from = b.From_Account ?? identifier;
    await existing('openim', from);
    await ops.checkDisk();
    const now = Date.now();
    // One key for the batch, as the hosted service answers: each recipient's conversation holds the message under it.
    const id = compatMessageId(from, '*', b.MsgRandom, now);
    const first = b.To_Account.find((to) => to !== from) ?? b.To_Account[0] ?? from;
    const { type, body } = await bodyOf(b.MsgBody, from, first);
    const push = pushOf(b);
    const refused: { To_Account: string; ErrorCode: number }[] = [];
    // Each recipient's copy is asked about on its own, as each is its own message there.
    const build = async (to: string): Promise<Message> => {
      const message = await ops.compose(from, to, type, body, id, now, push);
      try {
        const kept = await vetted(message, b.ForbidCallbackControl);
        if (kept !== null) return kept;
      } catch (error) {
        if (!(error instanceof TimFailure)) throw error;
        refused.push({ To_Account: to, ErrorCode: error.code });
      }
      // Not sent: a refusal the batch reports below, or a drop it keeps quiet about.
      throw new Refusal('duplicate-id', 'not sent (before-send)');
    };
    const { results } = await ops.sendEach(b.To_Account, build, b.SyncOtherMachine !== 2);
    const failed = results.filter((r) => r.error !== undefined && r.error !== 'duplicate-id');
    const errors = [...failed.map((r) => ({ To_Account: r.to, ErrorCode: r.error === undefined ? 0 : r.error === 'user-not-found' ? 90012 : timCodeOf('openim', r.error) })), ...refused];
    return { MsgKey: id, ...(errors.length > 0 ? { ErrorList: errors } : {}) };
  });

  v4(
    'openim',
    'importmsg',
    { summary: 'import one message of history (2) or live (5), de-duplicated on MsgSeq, MsgRandom and MsgTimeStamp', body: TimImportMsg, response: TimOk },
    async (b) => {
      await existing('openim', b.From_Account);
      await existing('openim', b.To_Account, 90012);
      const { type, body } = await bodyOf(b.MsgBody, b.From_Account, b.To_Account);
      const id = importedMessageId(b.From_Account, b.To_Account, b.MsgSeq, b.MsgRandom, b.MsgTimeStamp);
      await ops.importMessages([{ id, from: b.From_Account, to: b.To_Account, type, body, ts: b.MsgTimeStamp * 1000 }], b.SyncFromOldSystem === 5);
      return {};
    },
  );

  v4(
    'openim',
    'admin_getroammsg',
    { summary: "a pair's messages in a time range, newest page first (LastMsgKey and LastMsgTime ask for the page before)", body: TimGetRoamMsg, response: TimRoamResult },
    async (b) => {
      const a = b.Operator_Account;
      const peer = b.Peer_Account;
      const range = { from: b.MinTime * 1000, to: b.MaxTime * 1000 + 999, cursor: 0, limit: Number.MAX_SAFE_INTEGER };
      let rows = await hub.history.page(a, peer, range, false);
      if (b.LastMsgKey !== undefined) {
        const at = rows.findIndex((r) => r.id === b.LastMsgKey);
        if (at >= 0) rows = rows.slice(0, at);
      }
      const chosen = rows.slice(-b.MaxCnt);
      const oldest = chosen[0];
      const ids = new Set(chosen.map((r) => r.id));
      // Sequence order is not time order (an import keeps its own time): the bodies are read over the page's whole time span.
      const times = chosen.map((r) => r.ts);
      const span = { from: Math.min(...times), to: Math.max(...times), cursor: (oldest?.seq ?? 1) - 1, limit: Number.MAX_SAFE_INTEGER };
      const full = oldest === undefined ? [] : (await hub.history.page(a, peer, span, true)).filter((m) => ids.has(m.id));
      const to = (from: string): string => (from === a ? peer : a);
      const list = full.map((m) => ({
        From_Account: m.from,
        To_Account: to(m.from),
        MsgSeq: m.seq,
        MsgRandom: msgRandomOf(m.id),
        MsgTimeStamp: seconds(m.ts),
        MsgFlagBits: m.recalled === null ? 0 : 2,
        IsPeerRead: 0,
        MsgKey: m.id,
        MsgBody: m.message === null ? [] : toTimBody(m.message.body, mediaUrl),
        CloudCustomData: '',
      }));
      return { Complete: rows.length <= b.MaxCnt ? 1 : 0, MsgCnt: list.length, LastMsgTime: oldest === undefined ? 0 : seconds(oldest.ts), LastMsgKey: oldest?.id ?? '', MsgList: list };
    },
  );

  v4('openim', 'admin_msgwithdraw', { summary: 'recall a message by its MsgKey, at any time', body: TimMsgWithdraw, response: TimOk }, async (b) => {
    await hub.recalls.recall(b.From_Account, b.To_Account, b.MsgKey, ADMIN_ACTOR);
    return {};
  });

  v4('openim', 'modify_c2c_msg', { summary: "replace a message's body", body: TimModifyMsg, response: TimOk }, async (b) => {
    const { type, body } = await bodyOf(b.MsgBody, b.From_Account, b.To_Account);
    await hub.recalls.modify(b.From_Account, b.To_Account, b.MsgKey, (m) => {
      const next = Message.safeParse({ ...m, type, body });
      if (!next.success) throw new TimFailure(90002, next.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return next.data;
    });
    return {};
  });

  v4(
    'openim',
    'query_online_status',
    { summary: 'online (an open app), PushOnline (reachable by Web Push) or offline, for up to 500 users', body: TimQueryOnline, response: TimOnlineResult },
    async (b) => {
      const known: string[] = [];
      const errors: { To_Account: string; ErrorCode: number }[] = [];
      for (const id of b.To_Account) {
        if ((await storage.getUser(id)) === undefined) errors.push({ To_Account: id, ErrorCode: 70107 });
        else known.push(id);
      }
      const states = await ops.onlineStates(known);
      const name = { online: 'Online', push: 'PushOnline', offline: 'Offline' } as const;
      return {
        QueryResult: states.map(({ user, state }) => ({
          To_Account: user,
          Status: name[state],
          ...(b.IsNeedDetail === 1 ? { Detail: hub.devicesOnline(user).map(() => ({ Platform: 'Web', Status: 'Online' })) } : {}),
        })),
        ErrorList: errors,
      };
    },
  );

  v4('im_open_login_svc', 'account_import', { summary: 'import one account (UserID, Nick, FaceUrl)', body: TimAccountImport, response: TimOk }, async (b) => {
    const id = b.UserID ?? b.Identifier ?? '';
    const { created } = await ops.importAccounts([{ id, ...(b.Nick === undefined || b.Nick === '' ? {} : { nickname: b.Nick }) }]);
    if (created.length === 0 || b.FaceUrl === undefined || b.FaceUrl === '') return {};
    // The picture is fetched into Parley (an avatar is media of this server): the account stands without it if it cannot be.
    try {
      const face = await fetcher.fetch(b.FaceUrl, { from: id, kind: 'image' });
      await storage.updateUser(id, { avatar: mediaUrl(face.media.hash) });
      return {};
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return { ErrorInfo: `the account is imported without its picture: ${error.message} (${error.code})` };
    }
  });

  v4('im_open_login_svc', 'multiaccount_import', { summary: 'import up to 100 accounts by UserID', body: TimMultiAccountImport, response: TimMultiImportResult }, async (b) => {
    const failed: string[] = [];
    for (const id of b.Accounts) {
      try {
        await ops.importAccounts([{ id }]);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        failed.push(id);
      }
    }
    return { FailAccounts: failed };
  });

  /** One result per To_Account, each with its own code; Fail_Account lists those that failed. */
  const each = async (targets: readonly string[], act: (to: string) => Promise<void>) => {
    const items: { To_Account: string; ResultCode: number; ResultInfo: string }[] = [];
    for (const to of targets) {
      try {
        if ((await storage.getUser(to)) === undefined) throw new TimFailure(30003, `${to} is not an account here`);
        await act(to);
        items.push({ To_Account: to, ResultCode: 0, ResultInfo: '' });
      } catch (error) {
        const f = timFailure('sns', error);
        items.push({ To_Account: to, ResultCode: f.ErrorCode, ResultInfo: f.ErrorInfo });
      }
    }
    return { ResultItem: items, Fail_Account: items.filter((i) => i.ResultCode !== 0).map((i) => i.To_Account), ErrorDisplay: '' };
  };

  v4('sns', 'friend_import', { summary: "add friends to a user's list (one way), without asking", body: TimFriendImport, response: TimResultItems }, async (b) => {
    await existing('sns', b.From_Account);
    return each(
      b.AddFriendItem.map((i) => i.To_Account),
      (to) => hub.relations.addFriends(b.From_Account, [to], false),
    );
  });

  v4('sns', 'friend_check', { summary: 'whether users are friends: both ways, one way or not at all', body: TimFriendCheck, response: TimFriendCheckResult }, async (b) => {
    await existing('sns', b.From_Account);
    const mine = await hub.relations.load(b.From_Account);
    const info: { To_Account: string; Relation: string; ResultCode: number; ResultInfo: string }[] = [];
    const failed: string[] = [];
    for (const to of b.To_Account) {
      if ((await storage.getUser(to)) === undefined) {
        failed.push(to);
        info.push({ To_Account: to, Relation: 'CheckResult_Type_NoRelation', ResultCode: 30003, ResultInfo: `${to} is not an account here` });
        continue;
      }
      const aHasB = mine.friends.has(to);
      const bHasA = b.CheckType === 'CheckResult_Type_Both' && (await hub.relations.load(to)).friends.has(b.From_Account);
      const relation = aHasB && bHasA ? 'BothWay' : aHasB ? 'AWithB' : bHasA ? 'BWithA' : 'NoRelation';
      info.push({ To_Account: to, Relation: `CheckResult_Type_${relation}`, ResultCode: 0, ResultInfo: '' });
    }
    return { InfoItem: info, Fail_Account: failed, ErrorDisplay: '' };
  });

  v4('sns', 'friend_delete', { summary: "take users out of a user's friend list (and the user out of theirs with Delete_Type_Both)", body: TimFriendDelete, response: TimResultItems }, async (b) => {
    await existing('sns', b.From_Account);
    return each(b.To_Account, (to) => hub.relations.removeFriend(b.From_Account, to, b.DeleteType === 'Delete_Type_Both'));
  });

  v4('sns', 'black_list_add', { summary: "add users to a user's blocklist (at most 1,000 in it)", body: TimBlackListChange, response: TimResultItems }, async (b) => {
    await existing('sns', b.From_Account);
    return each(b.To_Account, (to) => hub.relations.block(b.From_Account, to));
  });

  v4('sns', 'black_list_delete', { summary: "take users off a user's blocklist", body: TimBlackListChange, response: TimResultItems }, async (b) => {
    await existing('sns', b.From_Account);
    return each(b.To_Account, (to) => hub.relations.unblock(b.From_Account, to));
  });

  v4('sns', 'black_list_get', { summary: "a user's blocklist, oldest first, a page at a time (StartIndex, MaxLimited)", body: TimBlackListGet, response: TimBlackListGetResult }, async (b) => {
    await existing('sns', b.From_Account);
    const blocked = [...(await hub.relations.load(b.From_Account)).blocked].sort((p, q) => p[1].created - q[1].created);
    const end = b.StartIndex + b.MaxLimited;
    return {
      BlackListItem: blocked.slice(b.StartIndex, end).map(([to, since]) => ({ To_Account: to, AddBlackTimeStamp: seconds(since.created) })),
      StartIndex: end < blocked.length ? end : 0,
      CurruentSequence: blocked.length,
      ErrorDisplay: '',
    };
  });
}
