/** The messages between the harness and its load generator process (IPC). */
import type { ServerKind } from '../servers/launch.ts';
import type { Latency } from '../stats.ts';

export interface Target {
  kind: ServerKind;
  wsBase: string;
  /**
   * A cluster's processes (wsBase is the first): device k of conversation i
   * connects to process (i + k) mod n, so a conversation's 4 devices sit on
   * 3 processes and most deliveries cross from one process to another.
   */
  wsBases?: string[];
  /** The server's process id, for /proc sampling around each measurement. */
  pid: number;
  dataDir: string;
}

export type Job =
  | { type: 'connect'; target: Target; conversations: number; devicesPerUser: number; concurrency: number }
  | { type: 'ramp'; rates: number[]; warmupMs: number; measureMs: number; drainMs: number; p99LimitMs: number }
  | { type: 'fixed'; rate: number; warmupMs: number; measureMs: number; drainMs: number }
  | { type: 'docStats' }
  /** The deliveries the last steps gave up on, once each has arrived or `waitMs` passed. */
  | { type: 'late'; waitMs: number }
  | { type: 'disconnect' }
  | { type: 'idle'; target: Target; devices: number; concurrency: number }
  | { type: 'failover'; conversation: number; server: number; pid: number; rate: number; beforeMs: number; timeoutMs: number }
  | { type: 'exit' };

export interface StepResult {
  /** Messages/s the senders offered. */
  offered: number;
  /** Messages/s the server accepted (acks received in the window). */
  accepted: number;
  /** Send → each other device sees it. */
  delivery: Latency;
  /** Send → the sender's ack. */
  ack: Latency;
  /** On a cluster (Target.wsBases): delivery to a device on the sender's process, and on another; null on one server. */
  split: { same: Latency; cross: Latency } | null;
  /** Deliveries expected and not seen within the drain time. */
  lost: number;
  /** Sockets the server closed during the step (warm-up and drain included); outside a failover they stay closed. */
  dropped: number;
  /** Writes refused in the step (warm-up and drain included), by code. */
  rejected: Record<string, number>;
  serverCpu: number;
  serverRss: number;
  loadgenCpu: number;
  /** The measured window, wall clock (Date.now()), to cut a server profile to it. */
  windowStart: number;
  windowEnd: number;
}

/** A delivery a step did not see within its drain: which message, from which device and process, to which. */
export interface LostDelivery {
  id: string;
  conversation: number;
  sender: { index: number; server: number };
  device: { index: number; server: number; connected: boolean };
  /** Whether the sender had its ack (the message is stored). */
  acked: boolean;
  arrivedMs: number | null;
}

export interface RampResult {
  steps: StepResult[];
  /** The highest accepted rate of a step whose p99 stayed within the limit. */
  best: StepResult | null;
}

export interface DocStats {
  /** Messages stored (distinct ids the devices hold) and their JSON size. */
  messages: number;
  jsonBytes: number;
  docs: number;
  /** Sum of Y.encodeStateAsUpdate of one device's copy of each document. */
  docBytes: number;
  maxDocBytes: number;
}

export interface IdleResult {
  devices: number;
  connectSeconds: number;
  rssBefore: number;
  rssAfter: number;
  serverCpuSeconds: number;
}

export interface FailoverResult {
  /** From the SIGKILL to the first ack of a write to the conversation sent after it; null if none within the timeout. */
  recoveredMs: number | null;
  /** Writes to the conversation sent after the kill (one every 10 ms from a device on a surviving process). */
  probes: number;
  /** Sockets the kill or the takeover dropped, and how many of them were connected again (to a surviving process). */
  dropped: number;
  reconnected: number;
  /** Writes refused meanwhile, by code. */
  rejected: Record<string, number>;
  /** Date.now() at the kill, for the harness's own clock (when the lease moved). */
  killedAt: number;
}

export interface ConnectResult {
  devices: number;
  seconds: number;
}

export type Reply =
  | { type: 'connect'; result: ConnectResult }
  | { type: 'ramp'; result: RampResult }
  | { type: 'fixed'; result: StepResult }
  | { type: 'docStats'; result: DocStats }
  | { type: 'late'; result: LostDelivery[] }
  | { type: 'disconnect' }
  | { type: 'idle'; result: IdleResult }
  | { type: 'failover'; result: FailoverResult }
  | { type: 'error'; message: string };
