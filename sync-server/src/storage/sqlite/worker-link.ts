/**
 * The main thread's end of the storage worker (sqlite-worker.ts): posts
 * `[id, store, method, ...args]` and settles each request's promise with the
 * worker's reply. Replies come on a port of their own, so that `poll` can
 * take finished ones synchronously.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { WorkerData, WorkerReply, WorkerRequest, WorkerTargets } from '../sqlite-worker.ts';

type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Result<F> = F extends (...args: never[]) => infer R ? R : never;

export class WorkerLink {
  private readonly worker: Worker;
  private readonly replies: MessagePort;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Set once the worker is gone (closed or crashed): every later call fails with it. */
  private gone: Error | null = null;
  /** Settles once the thread has exited. */
  readonly exited: Promise<void>;

  constructor(file: string) {
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    this.worker = new Worker(new URL('../sqlite-worker.mjs', import.meta.url), {
      workerData: { file, replies: port2 } satisfies WorkerData,
      transferList: [port2],
    });
    // Only a request in flight keeps the process alive (see post).
    this.worker.unref();
    this.replies.on('message', (reply: WorkerReply) => this.settle(reply));
    this.replies.unref();
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        // The worker's last replies (the one to `close`) travel on another
        // port than its exit, and may not have been taken yet: take them
        // first, or a clean close fails as if the worker had died.
        this.poll();
        this.fail(new Error(`the storage worker exited (code ${code})`));
        this.replies.close();
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return this.gone === null;
  }

  /** Runs `store.method(...args)` on the worker's connection; `transfer`: buffers among the args to hand over instead of copying. */
  call<S extends keyof WorkerTargets, M extends keyof WorkerTargets[S] & string>(
    store: S,
    method: M,
    args: Args<WorkerTargets[S][M]>,
    transfer: ArrayBuffer[] = [],
  ): Promise<Result<WorkerTargets[S][M]>> {
    return this.post(store, method, args, transfer) as Promise<Result<WorkerTargets[S][M]>>;
  }

  /** `call` by names only known at run time (the composer's routes); the worker checks the method exists. */
  post(store: string, method: string, args: readonly unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.gone !== null) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.replies.ref();
      this.worker.postMessage([id, store, method, ...args] satisfies WorkerRequest, transfer);
    });
  }

  /**
   * Takes the worker's finished replies now. Under load the event loop spends
   * long turns reading sockets, and a reply event waits for its turn; the
   * group commit calls this for every write, so commits are acknowledged (and
   * the next batch sent) as soon as they finish.
   */
  poll(): void {
    if (this.waiting.size === 0) return;
    for (let m = receiveMessageOnPort(this.replies); m !== undefined; m = receiveMessageOnPort(this.replies)) this.settle(m.message as WorkerReply);
  }

  private settle(reply: WorkerReply): void {
    const waiter = this.waiting.get(reply.id);
    if (waiter === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.replies.unref();
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(Object.assign(new Error(reply.message), { stack: reply.stack, code: reply.code }));
  }

  private fail(error: Error): void {
    this.gone ??= error;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
