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
