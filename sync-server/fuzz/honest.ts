/**
 * The honest side of the sync fuzzer, in a process of its own (forked by
 * run.ts) so that the fuzzer's frame generation never delays it: a real
 * y-websocket client (test/helpers.ts openDoc) sends a message at a steady
 * rate and times each from its send to its `ack`; a second client, the peer,
 * is open on the same conversation and must receive every message, stamped.
 *
 *   parent → {type: 'start', …}  ⇒ opens both, syncs, answers {type: 'ready'}
 *   parent → {type: 'stop'}      ⇒ stops sending, waits for every ack and every
 *                                   delivery (or the timeout), answers
 *                                   {type: 'report', …} and exits
 */
import * as Y from 'yjs';
import { SERVER_ROOTS, type Message } from '@parley/protocol';
import { message, openDoc, send, synced, type Client, type TestServer } from '../test/helpers.ts';

export interface HonestStart {
  type: 'start';
  wsUrl: string;
  path: string;
  sender: { user: string; token: string };
  peer: { user: string; token: string };
  /** Messages per second. */
  rate: number;
  /** How long to wait after `stop` for the last acks and deliveries. */
  settleMs: number;
}

export interface HonestReport {
  type: 'report';
  sent: number;
  acked: number;
  /** Messages the peer holds, each with the server's sequence stamp. */
  delivered: number;
  /** Refusals the sender received (an honest client should get none), by code. */
  rejected: Record<string, number>;
  /** Send → ack, ms, with the send time (ms since the epoch), in send order. */
  latencies: { at: number; ms: number }[];
  /** Times either socket closed during the run (y-websocket reconnects by itself). */
  closes: number;
  /** Ids sent and never acknowledged, or never delivered (the first few). */
  missing: { unacked: string[]; undelivered: string[] };
}

export type HonestToParent = { type: 'ready' } | HonestReport;
export type ParentToHonest = HonestStart | { type: 'stop' };

const tell = (reply: HonestToParent): void => void process.send?.(reply);

function stamped(doc: Y.Doc, id: string): boolean {
  return doc.getMap<Message>('messages').has(id) && doc.getMap<number>(SERVER_ROOTS.seq).has(id);
}

/** Polls until `done` or `timeoutMs`; never throws (the report says what is missing). */
async function settle(done: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!done() && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 20));
}

async function run(start: HonestStart): Promise<void> {
  const server = { wsUrl: start.wsUrl } as TestServer;
  const sender = openDoc(server, start.path, start.sender.token);
  const peer = openDoc(server, start.path, start.peer.token);
  let closes = 0;
  for (const c of [sender, peer]) c.provider.on('connection-close', () => closes++);
  await Promise.all([synced(sender), synced(peer)]);

  const sentAt = new Map<string, number>();
  /** Send times since the epoch, for the parent to tell the run's phases apart. */
  const sentWall = new Map<string, number>();
  const latencies = new Map<string, number>();
  const rejected: Record<string, number> = {};
  sender.onFrame = (frame) => {
    const now = performance.now();
    if (frame.type === 'ack') {
      for (const id of frame.msgIds) {
        const at = sentAt.get(id);
        if (at !== undefined && !latencies.has(id)) latencies.set(id, now - at);
      }
    } else if (frame.type === 'reject' || frame.type === 'refused') rejected[frame.code] = (rejected[frame.code] ?? 0) + 1;
  };
  const timer = setInterval(() => {
    const m = message(start.sender.user, start.peer.user, `honest ${sentAt.size}`);
    sentAt.set(m.id, performance.now());
    sentWall.set(m.id, Date.now());
    send(sender, m);
  }, 1000 / start.rate);
  tell({ type: 'ready' });

  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(timer);
  const ids = [...sentAt.keys()];
  await settle(() => latencies.size === ids.length && ids.every((id) => stamped(peer.doc, id)), start.settleMs);
  tell({
    type: 'report',
    sent: ids.length,
    acked: latencies.size,
    delivered: ids.filter((id) => stamped(peer.doc, id)).length,
    rejected,
    latencies: ids.flatMap((id) => {
      const ms = latencies.get(id);
      return ms === undefined ? [] : [{ at: sentWall.get(id) ?? 0, ms }];
    }),
    closes,
    missing: { unacked: ids.filter((id) => !latencies.has(id)).slice(0, 10), undelivered: ids.filter((id) => !stamped(peer.doc, id)).slice(0, 10) },
  });
  destroyAll([sender, peer]);
  process.disconnect();
}

function destroyAll(clients: Client[]): void {
  for (const c of clients) c.destroy();
}

process.once('message', (start: ParentToHonest) => {
  if (start.type !== 'start') return;
  run(start).catch((error: unknown) => {
    process.stderr.write(`honest client failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
});
