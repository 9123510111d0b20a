/**
 * The hosted service's REST message format, as its backends send and receive
 * it under `/v4/` (sync-server/src/compat/, docs/migrating.md): a body is an
 * array of `{ MsgType, MsgContent }` elements. Parsed leniently where that
 * service is lenient (numbers given as strings are not), checked by the same
 * element schemas as every Parley message once translated.
 */
import { z } from 'zod';

const Str = (max: number) => z.string().max(max);
const Num = z.number();
const Count = z.number().int().nonnegative();

export const TimTextElem = z.object({ MsgType: z.literal('TIMTextElem'), MsgContent: z.object({ Text: z.string().min(1) }) });
export const TimFaceElem = z.object({ MsgType: z.literal('TIMFaceElem'), MsgContent: z.object({ Index: Count, Data: Str(64).optional() }) });
export const TimLocationElem = z.object({
  MsgType: z.literal('TIMLocationElem'),
  MsgContent: z.object({ Desc: Str(256).optional(), Latitude: Num, Longitude: Num }),
});
/** One rendition: Type 1 original, 2 large, 3 thumbnail. */
export const TimImageInfo = z.object({ Type: z.union([z.literal(1), z.literal(2), z.literal(3)]), Size: Count.optional(), Width: Count.optional(), Height: Count.optional(), URL: z.string().min(1).max(2048) });
/** ImageFormat: 1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other. */
export const TimImageElem = z.object({
  MsgType: z.literal('TIMImageElem'),
  MsgContent: z.object({ UUID: Str(128).optional(), ImageFormat: Count.optional(), ImageInfoArray: z.array(TimImageInfo).min(1).max(3) }),
});
export const TimSoundElem = z.object({
  MsgType: z.literal('TIMSoundElem'),
  MsgContent: z.object({ Url: z.string().min(1).max(2048), UUID: Str(128).optional(), Size: Count.optional(), Second: Num.nonnegative(), Download_Flag: Count.optional() }),
});
export const TimFileElem = z.object({
  MsgType: z.literal('TIMFileElem'),
  MsgContent: z.object({ Url: z.string().min(1).max(2048), UUID: Str(128).optional(), FileSize: Count.optional(), FileName: z.string().min(1).max(255), Download_Flag: Count.optional() }),
});
export const TimVideoFileElem = z.object({
  MsgType: z.literal('TIMVideoFileElem'),
  MsgContent: z.object({
    VideoUrl: z.string().min(1).max(2048),
    VideoUUID: Str(128).optional(),
    VideoSize: Count.optional(),
    VideoSecond: Num.nonnegative(),
    VideoFormat: Str(32).optional(),
    VideoDownloadFlag: Count.optional(),
    ThumbUrl: z.string().min(1).max(2048),
    ThumbUUID: Str(128).optional(),
    ThumbSize: Count.optional(),
    ThumbWidth: Count.optional(),
    ThumbHeight: Count.optional(),
    ThumbFormat: Str(32).optional(),
    ThumbDownloadFlag: Count.optional(),
  }),
});
export const TimCustomElem = z.object({
  MsgType: z.literal('TIMCustomElem'),
  MsgContent: z.object({ Data: z.string().optional(), Desc: Str(256).optional(), Ext: z.string().optional(), Sound: z.string().optional() }),
});

export const TimElem = z.discriminatedUnion('MsgType', [TimTextElem, TimFaceElem, TimLocationElem, TimImageElem, TimSoundElem, TimFileElem, TimVideoFileElem, TimCustomElem]);
export type TimElem = z.infer<typeof TimElem>;
export type TimImageInfo = z.infer<typeof TimImageInfo>;

/** The hosted service's names for image formats, and back. */
export const TIM_IMAGE_FORMATS = { jpg: 1, gif: 2, png: 3, bmp: 4, webp: 255, other: 255 } as const;

/** Every `/v4/` answer carries these three; `ErrorCode` 0 is success. */
export const TimEnvelope = z.object({ ActionStatus: z.enum(['OK', 'FAIL']), ErrorCode: z.number().int(), ErrorInfo: z.string() });
export type TimEnvelope = z.infer<typeof TimEnvelope>;

// ---- Requests and answers of `/v4/`, as the hosted service documents them (for parsing and the OpenAPI document).

const Account = z.string().min(1).max(64);
const Accounts = (max: number) => z.array(Account).min(1).max(max);
const U32 = z.number().int().min(0).max(4_294_967_295);
const TimBody = z.array(TimElem).min(1).max(16);

/** Query parameters of every `/v4/` call. */
export const TimQuery = z.object({
  sdkappid: z.coerce.number().int(),
  identifier: z.string().min(1).max(64),
  usersig: z.string().min(1).max(4096),
  random: z.coerce.number().int().min(0).max(4_294_967_295).optional(),
  contenttype: z.literal('json').optional(),
});

export const TimOfflinePushInfo = z.object({
  /** 0: push (default), 1: no push. */
  PushFlag: z.union([z.literal(0), z.literal(1)]).optional(),
  Title: z.string().max(100).optional(),
  Desc: z.string().max(500).optional(),
  Ext: z.string().optional(),
}).loose();

const SendCommon = {
  /** 1: the message is also on the sender's other devices (default); 2: only the recipient's. */
  SyncOtherMachine: z.union([z.literal(1), z.literal(2)]).optional(),
  From_Account: Account.optional(),
  /** Seconds to keep it for an offline recipient's push; 0: online devices only (no push). */
  MsgLifeTime: z.number().int().min(0).max(604_800).optional(),
  MsgSeq: U32.optional(),
  MsgRandom: U32,
  MsgBody: TimBody,
  CloudCustomData: z.string().optional(),
  OfflinePushInfo: TimOfflinePushInfo.optional(),
  SendMsgControl: z.array(z.string()).optional(),
  ForbidCallbackControl: z.array(z.string()).optional(),
};

export const TimSendMsg = z.object({ ...SendCommon, To_Account: Account }).loose();
export const TimBatchSendMsg = z.object({ ...SendCommon, To_Account: Accounts(500) }).loose();
export const TimImportMsg = z.object({
  /** 2: history (no unread count, no push); 5: live (counted and pushed). */
  SyncFromOldSystem: z.union([z.literal(2), z.literal(5)]),
  From_Account: Account,
  To_Account: Account,
  MsgSeq: U32,
  MsgRandom: U32,
  MsgTimeStamp: U32,
  MsgBody: TimBody,
  CloudCustomData: z.string().optional(),
}).loose();
export const TimGetRoamMsg = z.object({
  Operator_Account: Account,
  Peer_Account: Account,
  MaxCnt: z.number().int().min(1).max(100),
  MinTime: U32,
  MaxTime: U32,
  LastMsgKey: z.string().max(128).optional(),
}).loose();
export const TimMsgWithdraw = z.object({ From_Account: Account, To_Account: Account, MsgKey: z.string().min(1).max(128) }).loose();
export const TimModifyMsg = z.object({ From_Account: Account, To_Account: Account, MsgKey: z.string().min(1).max(128), MsgBody: TimBody, CloudCustomData: z.string().optional() }).loose();
export const TimQueryOnline = z.object({ To_Account: Accounts(500), IsNeedDetail: z.union([z.literal(0), z.literal(1)]).optional() }).loose();

export const TimAccountImport = z.object({ UserID: Account.optional(), Identifier: Account.optional(), Nick: z.string().max(64).optional(), FaceUrl: z.string().max(2048).optional() })
  .loose()
  .refine((b) => b.UserID !== undefined || b.Identifier !== undefined, { error: 'UserID is required', path: ['UserID'] });
export const TimMultiAccountImport = z.object({ Accounts: Accounts(100) }).loose();

export const TimFriendImport = z.object({
  From_Account: Account,
  AddFriendItem: z.array(z.object({ To_Account: Account, Remark: z.string().optional(), GroupName: z.array(z.string()).optional(), AddSource: z.string().optional(), AddWording: z.string().optional(), AddTime: U32.optional() }).loose()).min(1).max(100),
}).loose();
export const TimFriendCheck = z.object({ From_Account: Account, To_Account: Accounts(1000), CheckType: z.enum(['CheckResult_Type_Both', 'CheckResult_Type_Single']) }).loose();
export const TimFriendDelete = z.object({ From_Account: Account, To_Account: Accounts(1000), DeleteType: z.enum(['Delete_Type_Single', 'Delete_Type_Both']).optional() }).loose();
export const TimBlackListChange = z.object({ From_Account: Account, To_Account: Accounts(1000) }).loose();
export const TimBlackListGet = z.object({ From_Account: Account, StartIndex: z.number().int().min(0), MaxLimited: z.number().int().min(1).max(1000), LastSequence: z.number().int().min(0).optional() }).loose();

const Envelope = { ActionStatus: z.enum(['OK', 'FAIL']), ErrorCode: z.number().int(), ErrorInfo: z.string() };
const Result = z.object({ To_Account: z.string(), ResultCode: z.number().int(), ResultInfo: z.string() });
export const TimTimMessage = z.object({
  From_Account: z.string(),
  To_Account: z.string(),
  MsgSeq: z.number().int(),
  MsgRandom: z.number().int(),
  MsgTimeStamp: z.number().int(),
  /** 0: as sent; 2: recalled (its body is gone). */
  MsgFlagBits: z.number().int(),
  IsPeerRead: z.number().int(),
  MsgKey: z.string(),
  MsgBody: z.array(TimElem),
  CloudCustomData: z.string(),
});

export const TimOk = z.object(Envelope);
export const TimSendResult = z.object({ ...Envelope, MsgTime: z.number().int().optional(), MsgKey: z.string().optional() });
export const TimBatchSendResult = z.object({ ...Envelope, MsgKey: z.string().optional(), ErrorList: z.array(z.object({ To_Account: z.string(), ErrorCode: z.number().int() })).optional() });
export const TimRoamResult = z.object({ ...Envelope, Complete: z.number().int(), MsgCnt: z.number().int(), LastMsgTime: z.number().int(), LastMsgKey: z.string(), MsgList: z.array(TimTimMessage) });
export const TimOnlineResult = z.object({
  ...Envelope,
  QueryResult: z.array(z.object({ To_Account: z.string(), Status: z.enum(['Online', 'PushOnline', 'Offline']), Detail: z.array(z.object({ Platform: z.string(), Status: z.string() })).optional() })),
  ErrorList: z.array(z.object({ To_Account: z.string(), ErrorCode: z.number().int() })),
});
export const TimMultiImportResult = z.object({ ...Envelope, FailAccounts: z.array(z.string()) });
export const TimResultItems = z.object({ ...Envelope, ResultItem: z.array(Result), Fail_Account: z.array(z.string()).optional(), ErrorDisplay: z.string().optional() });
export const TimFriendCheckResult = z.object({
  ...Envelope,
  InfoItem: z.array(z.object({ To_Account: z.string(), Relation: z.string(), ResultCode: z.number().int(), ResultInfo: z.string() })),
  Fail_Account: z.array(z.string()),
  ErrorDisplay: z.string().optional(),
});
export const TimBlackListGetResult = z.object({
  ...Envelope,
  BlackListItem: z.array(z.object({ To_Account: z.string(), AddBlackTimeStamp: z.number().int() })),
  StartIndex: z.number().int(),
  /** The hosted service's own spelling. */
  CurruentSequence: z.number().int(),
  ErrorDisplay: z.string().optional(),
});
