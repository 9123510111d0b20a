/**
 * `C2C.CallbackBeforeSendMsg`: the app's backend is asked before a user's
 * one-to-one message is sent (sync/send-gate.ts for messages written on the
 * sync wire; `/v4/` sends call `ask` too). Its answer's `ErrorCode`:
 *
 *   0                send; with `MsgBody`, send that body instead (a rewrite)
 *   1                refuse (callback-refused, its `ErrorInfo` shown when given)
 *   2                drop silently: the sender is told it was sent
 *   120001–130000    refuse, as 1 (the number is logged and returned for `/v4/`)
 *
 * No answer within PARLEY_CALLBACK_TIMEOUT_MS, a failed call, an answer that
 * is not this shape, or a rewrite Parley cannot take (an element changed into
 * media, which only a fetch turns into bytes here, or a body its schemas or
 * the 12 KB limit refuse) count as no answer: the message goes
 * (PARLEY_CALLBACK_FAIL=open) or is refused, callback-unavailable (closed).
 * An element of the rewrite identical to the one sent keeps the original
 * (its link preview, its media).
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { bodyBytes, type Element, errorMessage, LIMITS, Message } from '@parley/protocol';
import { TimElem } from '@parley/protocol/compat';
import type { CallbackConfig } from '../config.ts';
import type { Log } from '../log.ts';
import { type SendVerdict, withBody } from '../sync/send-gate.ts';
import type { CallbackCaller } from './callback-http.ts';
import { type MediaUrl, timMessageFields, toTimBody } from './tim-body.ts';
import { fromTimPlain } from './tim-plain.ts';

export const BEFORE_SEND_COMMAND = 'C2C.CallbackBeforeSendMsg';

/** The answer's fields Parley reads; `MsgBody` is judged element by element below. */
const Answer = z.object({ ErrorCode: z.number().int(), ErrorInfo: z.string().optional(), MsgBody: z.array(z.unknown()).optional() });

/** The codes a backend refuses with and the sender sees (the hosted service's range for them). */
const isAppRefusal = (code: number): boolean => code === 1 || (code >= 120_001 && code <= 130_000);

/** A refusal, with the backend's number (1, or its own 120001–130000) for `/v4/` answers. */
export type BeforeSendVerdict = SendVerdict | (Extract<SendVerdict, { verdict: 'refuse' }> & { backendCode: number });

export class BeforeSend {
  constructor(
    private readonly config: Pick<CallbackConfig, 'timeoutMs' | 'failClosed'>,
    private readonly caller: CallbackCaller,
    private readonly mediaUrl: MediaUrl,
    private readonly log: Log,
  ) {}

  /** The backend's verdict on `message`; `seq`: the sequence it would most likely be given (MsgSeq). Never rejects. */
  async ask(message: Message, seq = 0): Promise<BeforeSendVerdict> {
    const sent = toTimBody(message.body, this.mediaUrl);
    const payload = {
      CallbackCommand: BEFORE_SEND_COMMAND,
      ...timMessageFields(message, seq),
      OnlineOnlyFlag: 0,
      MsgBody: sent,
      CloudCustomData: '',
      EventTime: Date.now(),
    };
    let json: unknown;
    try {
      const answer = await this.caller.call(BEFORE_SEND_COMMAND, payload, AbortSignal.timeout(this.config.timeoutMs));
      if (answer.status !== 200) return this.unanswered(message, `HTTP ${answer.status}`);
      json = answer.json;
    } catch (error) {
      return this.unanswered(message, error instanceof Error ? error.message : String(error));
    }
    const parsed = Answer.safeParse(json);
    if (!parsed.success) return this.unanswered(message, 'the answer is not { ErrorCode, ErrorInfo, MsgBody? }');
    const { ErrorCode: code, ErrorInfo: info, MsgBody: body } = parsed.data;
    if (isAppRefusal(code)) {
      return { verdict: 'refuse', code: 'callback-refused', message: info !== undefined && info.trim() !== '' ? info : errorMessage('callback-refused'), backendCode: code };
    }
    if (code === 2) return { verdict: 'drop' };
    if (code !== 0) return this.unanswered(message, `ErrorCode ${code}`);
    if (body === undefined) return { verdict: 'send' };
    const rewrite = rewritten(message, sent, body);
    if (!rewrite.ok) return this.unanswered(message, `a rewrite Parley cannot take: ${rewrite.why}`);
    return rewrite.body === null ? { verdict: 'send' } : { verdict: 'send', body: rewrite.body };
  }

  private unanswered(message: Message, why: string): SendVerdict {
    this.log.warn({ msgId: message.id, from: message.from, why, failClosed: this.config.failClosed }, 'before-send callback: no usable answer');
    return this.config.failClosed ? { verdict: 'refuse', code: 'callback-unavailable', message: errorMessage('callback-unavailable') } : { verdict: 'send' };
  }
}

/** A backend's `MsgBody` as Parley takes it: the new body (null: nothing changed), or why it cannot be taken. */
type Rewrite = { ok: true; body: Element[] | null } | { ok: false; why: string };

/** The body a backend's `MsgBody` makes of `message`. An element as it was sent keeps the original; any other must be one without media. */
function rewritten(message: Message, sent: readonly TimElem[], answer: readonly unknown[]): Rewrite {
  const body: Element[] = [];
  let changed = answer.length !== sent.length;
  for (const [i, raw] of answer.entries()) {
    const elem = TimElem.safeParse(raw);
    if (!elem.success) return { ok: false, why: `element ${i} is not one of the hosted service's` };
    const original = message.body[i];
    if (original !== undefined && isDeepStrictEqual(elem.data, JSON.parse(JSON.stringify(sent[i])))) {
      body.push(original);
      continue;
    }
    const element = fromTimPlain(elem.data);
    if (element === null) return { ok: false, why: `element ${i} is media (${elem.data.MsgType})` };
    if (element.type === 'system') return { ok: false, why: `element ${i} is a system notice, which a user's message never holds` };
    body.push(element);
    changed = true;
  }
  if (!changed) return { ok: true, body: null };
  const candidate = Message.safeParse(withBody(message, body));
  if (!candidate.success) return { ok: false, why: candidate.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  if (bodyBytes(body) > LIMITS.bodyBytes) return { ok: false, why: 'the body is over 12 KB' };
  return { ok: true, body };
}
