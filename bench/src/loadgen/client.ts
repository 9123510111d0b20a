/** The harness's side of the load generator: fork it, send a job, await its one reply. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, Reply } from './jobs.ts';

type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

export class LoadGen {
  private readonly child: ChildProcess;
  private waiting: ((reply: Reply) => void) | null = null;
  private readonly exited: Promise<void>;

  constructor() {
    this.child = fork(fileURLToPath(new URL('./main.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (reply: Reply) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(reply);
    });
    this.child.once('exit', (code) => {
      const w = this.waiting;
      this.waiting = null;
      w?.({ type: 'error', message: `load generator exited (${code})` });
    });
    process.on('exit', () => this.child.kill('SIGKILL'));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Runs one job; the reply's type matches the job's (or the job failed). */
  async run<T extends Exclude<Job['type'], 'exit'>>(job: Extract<Job, { type: T }>): Promise<ReplyOf<T>> {
    if (this.waiting !== null) throw new Error('one job at a time');
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting = resolve;
      this.child.send(job);
    });
    if (reply.type === 'error') throw new Error(`load generator: ${reply.message}`);
    return reply as ReplyOf<T>;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.send({ type: 'exit' } satisfies Job);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
