/**
 * The before-send gate (PARLEY_CALLBACK_BEFORE_SEND): an update that carries
 * new messages waits for a verdict on each (compat/before-send.ts asks the
 * app's backend) before the accept path judges it as ever:
 *
 *   every message sent     → accepted (a rewritten body replaces its message's,
 *                            in the same transaction: sync/accept.ts)
 *   every message dropped  → `ack`, nothing stored or delivered (as to a blocker)
 *   any message refused   → `reject` naming the refused ones (and the dropped
 *                            ones, when the others go): nothing of the update is
 *                            applied, and the app sends the rest again
 *
 * A writer's updates are judged in the order they came: while one waits, the
 * writer's later updates (receipts, reactions, messages) queue behind it, up
 * to PARLEY_MESSAGE_BURST of them (more is refused `slow-down`, which the app
 * sends again after the wait: a writer cannot pile up memory while its
 * backend is slow). An update with no new message of a writer with nothing
 * queued goes straight through, and other writers are never held. What is learnt before asking
 * (validateUpdate, pure) is learnt again by the accept path against the
 * document as it then is.
 */
import { type Element, type ErrorCode, errorMessage, type Message } from '@parley/protocol';
import type { Log } from '../log.ts';
import type { AcceptPath } from './accept.ts';
import type { UpdateSink, Writer } from './connection.ts';
import type { LiveDoc } from './live-doc.ts';

export type SendVerdict = { verdict: 'send'; body?: Element[] } | { verdict: 'drop' } | { verdict: 'refuse'; code: ErrorCode; message: string };

/** Asks about one new message; `seq` is the sequence it would most likely be given. Never rejects. */
export type SendCheck = (message: Message, seq: number) => Promise<SendVerdict>;

interface Held {
  live: LiveDoc;
  writer: Writer;
  update: Uint8Array;
}

/** `message` with another body; its type stays unless the body has no element of it (then the first element's). */
export function withBody(message: Message, body: readonly Element[]): Message {
  const type = body.some((e) => e.type === message.type) ? message.type : (body[0]?.type ?? message.type);
  return { ...message, type, body: [...body] };
}

export class SendGate implements UpdateSink {
  /** Per writer (its connection, or a forwarded connection's `origin`), the updates waiting, the first being judged. */
  private readonly queues = new Map<unknown, Held[]>();

  constructor(
    private readonly accept: AcceptPath,
    private readonly check: SendCheck,
    private readonly log: Log,
    /** The most updates one writer may have waiting (PARLEY_MESSAGE_BURST: the most writes it may make at once). */
    private readonly maxQueued: number,
    /** When a writer over `maxQueued` may send again: about one answer's wait (PARLEY_CALLBACK_TIMEOUT_MS). */
    private readonly retryAfterMs: number,
  ) {}

  submit(live: LiveDoc, writer: Writer, update: Uint8Array): void {
    const key = writer.origin ?? writer;
    const queue = this.queues.get(key);
    if (queue !== undefined) {
      if (queue.length > this.maxQueued) {
        this.log.info({ doc: live.path, user: writer.user, queued: queue.length }, 'update refused: too many waiting for the app backend');
        writer.sendControl({ type: 'reject', code: 'slow-down', message: errorMessage('slow-down'), msgIds: [], retryAfterMs: this.retryAfterMs });
        return;
      }
      queue.push({ live, writer, update });
      return;
    }
    if (this.accept.newMessages(live, writer.user, update).length === 0) {
      this.accept.submit(live, writer, update);
      return;
    }
    const started: Held[] = [{ live, writer, update }];
    this.queues.set(key, started);
    void this.drain(key, started);
  }

  /** Judges a writer's queue in order; it is forgotten when empty, in the same turn as its last is judged. */
  private async drain(key: unknown, queue: Held[]): Promise<void> {
    for (let held = queue[0]; held !== undefined; held = queue[0]) {
      try {
        await this.judge(held);
      } catch (error) {
        this.log.error({ err: error, doc: held.live.path, user: held.writer.user }, 'before-send: an update could not be judged');
        held.writer.sendControl({ type: 'reject', code: 'internal', message: errorMessage('internal'), msgIds: [] });
      }
      queue.shift();
    }
    this.queues.delete(key);
  }

  private async judge({ live, writer, update }: Held): Promise<void> {
    // Learnt again here: an update queued behind another is read against the document as that one left it.
    const messages = live.destroyed ? [] : this.accept.newMessages(live, writer.user, update);
    if (messages.length === 0) {
      if (!live.destroyed) this.accept.submit(live, writer, update);
      return;
    }
    const first = this.accept.nextSeq(live);
    const verdicts = await Promise.all(messages.map((m, i) => this.check(m, first + i)));
    if (live.destroyed) {
      // Unloaded or dropped meanwhile, its sockets closed: the writer's app sends it again when it reconnects.
      this.log.info({ doc: live.path, user: writer.user }, 'before-send: the document left memory while its backend was asked');
      return;
    }
    const refused = messages.flatMap((m, i) => {
      const v = verdicts[i];
      return v?.verdict === 'refuse' ? [{ id: m.id, code: v.code, message: v.message }] : [];
    });
    const dropped = messages.filter((_, i) => verdicts[i]?.verdict === 'drop').map((m) => m.id);
    const firstRefusal = refused[0];
    if (firstRefusal !== undefined || (dropped.length > 0 && dropped.length < messages.length)) {
      // One update is taken whole or not at all: the refused (and, mixed with messages that go, the dropped) are named,
      // and the app sends the others again.
      const code = firstRefusal?.code ?? 'callback-refused';
      const message = firstRefusal?.message ?? errorMessage('callback-refused');
      const msgIds = [...refused.map((r) => r.id), ...(firstRefusal === undefined ? dropped : [])];
      this.log.info({ doc: live.path, user: writer.user, code, msgIds }, 'update refused by the app backend');
      writer.sendControl({ type: 'reject', code, message, msgIds });
      return;
    }
    if (dropped.length > 0) {
      this.accept.submit(live, writer, update, { drop: true });
      return;
    }
    const rewrites = new Map<string, Message>();
    messages.forEach((m, i) => {
      const v = verdicts[i];
      if (v?.verdict === 'send' && v.body !== undefined) rewrites.set(m.id, withBody(m, v.body));
    });
    this.accept.submit(live, writer, update, rewrites.size > 0 ? { rewrites } : {});
  }
}
