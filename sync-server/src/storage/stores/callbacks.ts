/**
 * The queue of the app backend's after-send callbacks (compat/after-send.ts):
 * a row is written by a `callback` write in its message's own commit, so it
 * exists exactly when the message does, and stays until the backend took it
 * or it was given up. Each row carries a claim (the process sending it, and
 * until when), so that processes sharing one database each send only what
 * they claimed: every row goes out once, whichever process is alive.
 */

/** One callback waiting to go out. */
export interface QueuedCallback {
  id: number;
  /** The conversation (`a/b`) of its message: the sender keeps each conversation's callbacks in order. */
  conversation: string;
  /** The id of its message: a recall drops the callback, which holds the message's content. */
  msg: string;
  /** The callback's JSON body. */
  payload: string;
  /** Attempts the backend did not take so far. */
  attempts: number;
  /** ms since the epoch: not sent before. */
  due: number;
}

export interface CallbackStore {
  /** Every queued callback, oldest first, whoever holds it (tests, migrate). */
  queuedCallbacks(): Promise<QueuedCallback[]>;
  /**
   * Claims for `node`, until `claimUntil`, up to `limit` due callbacks
   * (`due <= now`), oldest first, whose claim is free or ran out (a dead
   * process's). `lone`: this process knows it is the only one (no cluster),
   * so another node's claim, left by its previous life, is free too.
   * Two claims at once never get the same row (as claimPushes).
   */
  claimCallbacks(node: string, now: number, claimUntil: number, limit: number, lone?: boolean): Promise<QueuedCallback[]>;
  /** The earliest time after `after` at which a queued callback is due; null when none is. */
  nextCallbackDue(after: number): Promise<number | null>;
  /** Puts a callback off after an attempt the backend did not take, and frees its claim: whoever sweeps once it is due sends it. */
  retryCallback(id: number, attempts: number, due: number): Promise<void>;
  /** A recall: removes the message's callback, and with it the content it holds, unless it was sent already. */
  dropCallbacksOf(conversation: string, msg: string): Promise<void>;
  /** Removes callbacks from the queue (taken by the backend, or given up). */
  dropCallbacks(ids: readonly number[]): Promise<void>;
  /** Frees every claim of `node` (it is stopping, or handing rows back unsent): the next sweep anywhere takes them. */
  releaseCallbackClaims(node: string, ids?: readonly number[]): Promise<void>;
}
