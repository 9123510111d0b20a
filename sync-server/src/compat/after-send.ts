/**
 * The after-send callback (`C2C.CallbackAfterSendMsg`): the app backend hears
 * of every accepted one-to-one message, client sends and admin sends alike
 * (not of imported history: the hosted service sends none for importmsg).
 *
 * Durable exactly as the message: `afterSendWrites` (a SyncHub.alsoWrite
 * hook) adds a `callback` row to the message's own commit, so a message
 * acked is a callback queued, and one refused is none. Sending is never on
 * the accept path: `AfterSendQueue` wakes after the commit (a HubObserver)
 * and works from the queue:
 *
 *   claim due rows (this process, CLAIM_BATCH at most) → per conversation,
 *   in row order, CONCURRENCY conversations at once → POST, deadline timeoutMs:
 *     2xx                                  → taken: row deleted
 *     anything else (no answer, 429, 5xx,
 *     refused URL, a network error)        → put off retryMs × 2^(attempts-1),
 *                                            at most an hour; given up
 *                                            (logged, deleted) at maxAttempts;
 *                                            the rest of its conversation's
 *                                            claimed rows are released unsent
 *
 * Claims work as the push queue's (push/queue.ts): a row is sent by the
 * process that claimed it, so in a cluster each goes out once; a claim lasts
 * longer than its batch can take, and a dead process's rows are claimed by
 * the others' sweeps once it ran out. A process alone takes every row at
 * start, whoever held it (its previous life). Stopping aborts the requests in
 * flight and releases every claim, so the next process sends those rows.
 *
 * Delivery is at least once: a backend that took a call whose answer never
 * arrived (a deadline, a stop, a crash in between) gets it again. Its
 * `MsgKey` (the message id) names the message for de-duplication.
 */
import { conversationId, type Message } from '@parley/protocol';
import { Refusal } from '../errors.ts';
import type { Log } from '../log.ts';
import type { QueuedCallback, Storage, Write } from '../storage/storage.ts';
import type { ConversationEvent, HubObserver, MessageWrites } from '../sync/events.ts';
import type { CallbackCaller } from './callback-http.ts';
import { timMessageFields, toTimBody, type MediaUrl } from './tim-body.ts';

const AFTER_SEND_COMMAND = 'C2C.CallbackAfterSendMsg';
/** Conversations whose callbacks are being sent at once: a backend takes a few calls in parallel; its own order per conversation is kept. */
const CONCURRENCY = 4;
/** Rows claimed per sweep: a dead process's backlog is shared, a batch at a time, among the others. */
const CLAIM_BATCH = 64;
/** The longest a callback is put off: a backend back after a long outage gets every call within the hour. */
const MAX_DELAY_MS = 3600_000;
/** Added to the longest a claimed batch can take (every row one after another, each to its deadline), so a claim outlives its batch. */
const CLAIM_MARGIN_MS = 10_000;

/** The body of one message's after-send callback, in the hosted service's format. */
function afterSendPayload(message: Message, seq: number, mediaUrl: MediaUrl, now: number): Record<string, unknown> {
  return {
    CallbackCommand: AFTER_SEND_COMMAND,
    ...timMessageFields(message, seq),
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    ErrorInfo: 'send msg succeed',
    MsgBody: toTimBody(message.body, mediaUrl),
    CloudCustomData: '',
    EventTime: now,
  };
}

/** The hook that queues each sent message's callback in the message's own commit (imports queue none). */
export function afterSendWrites(mediaUrl: MediaUrl): MessageWrites {
  return ({ message, conversation, seq, imported }): Write[] => {
    if (imported) return [];
    const now = Date.now();
    return [{ kind: 'callback', conversation, msg: message.id, payload: JSON.stringify(afterSendPayload(message, seq, mediaUrl, now)), due: now }];
  };
}

export interface AfterSendDeps {
  storage: Storage;
  caller: Pick<CallbackCaller, 'call'>;
  log: Log;
  /** Each attempt's deadline, ms (PARLEY_CALLBACK_TIMEOUT_MS). */
  timeoutMs: number;
  /** The first put-off's delay, ms (PARLEY_CALLBACK_RETRY_MS); it doubles per attempt. */
  retryMs: number;
  /** Attempts before a callback is given up (PARLEY_CALLBACK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** This process's id in the claims: random per start (the bus's node id in a cluster). */
  node: string;
  /** No cluster: this process is the only one, and may take rows another node id (its previous life) holds. */
  lone: boolean;
}

/** The delay before attempt `attempts + 1`, after `attempts` the backend did not take. */
function retryDelay(retryMs: number, attempts: number): number {
  return Math.min(MAX_DELAY_MS, retryMs * 2 ** Math.min(attempts - 1, 32));
}

export class AfterSendQueue implements HubObserver {
  /** How long a claim lasts: longer than a batch can take. */
  private readonly claimMs: number;
  /** Aborts every request in flight when the queue closes. */
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AfterSendDeps) {
    this.claimMs = CLAIM_BATCH * deps.timeoutMs + CLAIM_MARGIN_MS;
  }

  /**
   * Sends what is due now, and from then on on each commit and when the
   * next row put off is due; in a cluster it also sweeps twice per claim's
   * length for the rows of a process that died.
   */
  start(): void {
    if (!this.deps.lone) {
      this.sweeper = setInterval(() => this.wake(), Math.floor(this.claimMs / 2));
      this.sweeper.unref();
    }
    this.wake();
  }

  /** Messages are durable, and so are their callbacks: send them (after this turn: the observer is called on the commit's path). */
  messagesCommitted(): void {
    setImmediate(() => this.wake());
  }

  /**
   * A recall: its message's callback, unless sent already (or being sent:
   * past recalling), leaves the queue with the content it holds. Asked for
   * now, before the recall's erasure, so that the erasure's checkpoint
   * leaves no copy of the row either.
   */
  messageRecalled(event: ConversationEvent): void {
    for (const { message } of event.stamped) {
      this.deps.storage
        .dropCallbacksOf(conversationId(message.from, message.to), message.id)
        .catch((error: unknown) => this.deps.log.error({ err: error, msg: message.id }, 'after-send callbacks: the callback of a recalled message was not dropped'));
    }
  }

  /** Stops: aborts the requests in flight (their rows are not put off), waits for the sweep under way, and releases this process's claims. */
  async close(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
    await this.running;
    // Unreleased, the rows wait for their claims to run out (or for this server's next start, alone).
    await this.deps.storage.releaseCallbackClaims(this.deps.node).catch((error: unknown) => this.deps.log.warn({ err: error }, 'after-send callbacks: claims not released'));
  }

  private get closed(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Runs a sweep, or another right after the one under way. */
  private wake(): void {
    if (this.closed) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.sweep()
      .catch((error: unknown) => {
        // A storage fault: try again once it may have passed.
        this.deps.log.error({ err: error }, 'after-send callbacks: the queue could not be read or written');
        this.schedule(Date.now() + this.deps.retryMs);
      })
      .finally(() => {
        this.running = null;
        if (this.again) this.wake();
      });
  }

  /** Claims and sends due rows until none is left, then sets the timer for the next row due. */
  private async sweep(): Promise<void> {
    const { storage, node, lone } = this.deps;
    let full = true;
    let claimed = 0;
    while (!this.closed && (full || this.again)) {
      this.again = false;
      claimed = Date.now();
      const rows = await storage.claimCallbacks(node, claimed, claimed + this.claimMs, CLAIM_BATCH, lone);
      full = rows.length === CLAIM_BATCH;
      await this.sendAll(rows);
    }
    // A row due by the last claim was claimed (here or by another process); one put off since is due after it, maybe already.
    const next = await storage.nextCallbackDue(claimed);
    if (next !== null) this.schedule(next);
  }

  private schedule(at: number): void {
    if (this.closed || (this.timer !== undefined && this.timerAt <= at && this.timerAt > Date.now())) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  /** Each conversation's rows in order, one at a time; CONCURRENCY conversations at once. */
  private async sendAll(rows: readonly QueuedCallback[]): Promise<void> {
    const lanes = new Map<string, QueuedCallback[]>();
    for (const row of rows) {
      const lane = lanes.get(row.conversation);
      if (lane === undefined) lanes.set(row.conversation, [row]);
      else lane.push(row);
    }
    const queue = [...lanes.values()];
    const worker = async (): Promise<void> => {
      for (let lane = queue.shift(); lane !== undefined && !this.closed; lane = queue.shift()) await this.sendLane(lane);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }

  private async sendLane(lane: readonly QueuedCallback[]): Promise<void> {
    for (const [i, row] of lane.entries()) {
      if (this.closed || (await this.attempt(row))) continue;
      // Put off: the rest of the conversation is released, for the next sweep, right after this one.
      const rest = lane.slice(i + 1).map((r) => r.id);
      if (rest.length > 0 && !this.closed) {
        await this.deps.storage.releaseCallbackClaims(this.deps.node, rest);
        this.again = true;
      }
      return;
    }
  }

  /** One POST; true when the backend took it (the row is deleted), false when it was put off or given up. */
  private async attempt(row: QueuedCallback): Promise<boolean> {
    const { caller, storage, log, timeoutMs, retryMs, maxAttempts } = this.deps;
    let why: string;
    let refused = false;
    try {
      const answer = await caller.call(AFTER_SEND_COMMAND, JSON.parse(row.payload), AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]));
      if (answer.status >= 200 && answer.status < 300) {
        await storage.dropCallbacks([row.id]);
        return true;
      }
      why = `the backend answered ${answer.status}`;
    } catch (error) {
      refused = error instanceof Refusal;
      why =
        error instanceof Refusal
          ? `the callback URL is refused: ${error.message} (PARLEY_CALLBACK_ALLOW lists the origins called whatever they are)`
          : error instanceof Error
            ? error.message
            : String(error);
    }
    // Stopping: the row stays as it was, released in close().
    if (this.closed) return false;
    const attempts = row.attempts + 1;
    if (attempts >= maxAttempts) {
      log.warn({ event: 'callback-given-up', callback: row.id, conversation: row.conversation, attempts, why }, 'after-send callback given up');
      await storage.dropCallbacks([row.id]);
      return false;
    }
    const due = Date.now() + retryDelay(retryMs, attempts);
    // A refused URL is the operator's to fix; a backend that is down says so once per call, quietly.
    log[refused ? 'warn' : 'info']({ event: 'callback-put-off', callback: row.id, conversation: row.conversation, attempts, why }, 'after-send callback put off');
    await storage.retryCallback(row.id, attempts, due);
    return false;
  }
}
